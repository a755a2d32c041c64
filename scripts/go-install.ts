// Builds Go binaries once, with `go install module/pkg@version`, into a
// versioned cache directory; for the Temporal CLI and the Temporal server.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../lib/backoff';

export type Log = (message: string) => void;

export type GoInstall = {
  go: string;
  /** What is built, for messages ("the Temporal CLI v1.5.1"). */
  what: string;
  version: string;
  /** Name in `dir` -> Go package; each is `go install`ed at `version`. */
  binaries: Record<string, string>;
  /** Where the binaries end up. */
  dir: string;
  /** Runs in the build's temp dir before the binaries are moved into place (e.g. to copy files out of the module). */
  beforeCommit?: (tmp: string) => Promise<void> | void;
  log: Log;
};

/** Whether every binary of the build is in place. */
export const isInstalled = (b: Pick<GoInstall, 'binaries' | 'dir'>) => Object.keys(b.binaries).every((name) => existsSync(path.join(b.dir, name)));

/**
 * Only one process builds at a time (e.g. jest and `npm start` started
 * together); the others wait for its result. The lock is a directory, because
 * mkdir is atomic, holding the builder's pid so a lock left by a killed build
 * can be recognised as stale and taken over.
 */
export async function goInstallWithLock(b: GoInstall): Promise<void> {
  const { dir, log } = b;
  mkdirSync(dir, { recursive: true });
  const lock = `${dir}.lock`;
  let waitingSaid = false;
  for (;;) {
    if (tryLock(lock)) break;
    const holder = lockHolder(lock);
    if (holder !== undefined && !isAlive(holder)) {
      log(`removing a stale build lock left by pid ${holder}`);
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!waitingSaid) {
      log(`another process${holder ? ` (pid ${holder})` : ''} is building ${b.what}; waiting for it...`);
      waitingSaid = true;
    }
    await sleep(1000);
  }
  try {
    // The holder we waited for may have finished the job.
    if (isInstalled(b)) return;
    // Temp dirs of builds that were killed; nobody else builds while we hold the lock.
    for (const name of readdirSync(path.dirname(dir))) {
      if (name.startsWith(`${path.basename(dir)}.build-`)) rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
    }
    await build(b);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  writeFileSync(path.join(lock, 'pid'), String(process.pid));
  return true;
}

function lockHolder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // Just created and the pid not written yet, or removed meanwhile.
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM: it does, but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function build(b: GoInstall): Promise<void> {
  const { go, dir, log } = b;
  const started = Date.now();
  log(`building ${b.what} with Go into ${dir}`);
  log('the first build downloads many Go modules and compiles for several minutes; later runs reuse the binary');
  // go install writes into GOBIN as it likes; a temp dir beside the target
  // (same filesystem) lets us rename the finished binaries into place
  // atomically, so a killed build never leaves a half-written one behind.
  const tmp = await mkdtemp(`${dir}.build-`);
  try {
    const packages = Object.values(b.binaries).map((pkg) => `${pkg}@${b.version}`);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', ...packages], {
        env: { ...process.env, GOBIN: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Stream go's progress ("go: downloading ...") so a long build is visibly alive.
      const forward = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) log(`go: ${line.replace(/^go: /, '')}`);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      // Compiling prints nothing for minutes; say that we are still at it.
      const heartbeat = setInterval(() => log(`still building (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
      child.on('error', (err) => {
        clearInterval(heartbeat);
        reject(err);
      });
      child.on('close', (code) => {
        clearInterval(heartbeat);
        resolve(code);
      });
    });
    const built = Object.entries(b.binaries).map(([name, pkg]) => ({ name, from: path.join(tmp, path.basename(pkg)) }));
    if (code !== 0 || !built.every((x) => existsSync(x.from))) throw new Error(`go install ${packages.join(' ')} failed (exit ${code})`);
    await b.beforeCommit?.(tmp);
    // isInstalled looks for every binary: the last rename completes the build.
    for (const { name, from } of built) renameSync(from, path.join(dir, name));
    log(`built in ${Math.round((Date.now() - started) / 1000)} s: ${dir}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
