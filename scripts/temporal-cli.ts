// Finds (or builds) the Temporal CLI, which contains the dev server and the Web UI.
//
// There is no Temporal server on npm, and @temporalio/testing's own
// 'cached-download' fetches the CLI from outside the package registries, which
// fails on machines without general internet access. So we prefer a binary we
// can find or build from its Go module, and only fall back to the SDK's
// download when nothing else works.
//
// Order: $TEMPORAL_CLI, `temporal` on PATH, our versioned cache, a fresh
// `go install` into that cache, then the SDK's cached-download.
//
// Run directly (`tsx scripts/temporal-cli.ts`) it prints the path it resolved.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { sleep } from '../lib/backoff';

/**
 * v1.5.1 is the last CLI release that `go install pkg@version` accepts: from
 * v1.6.0 on its go.mod has a `replace` directive. It embeds server 1.29.1.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalCliExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };
export type Log = (message: string) => void;

const defaultLog: Log = (m) => process.stderr.write(`[temporal-cli] ${m}\n`);

/** `${XDG_CACHE_HOME:-~/.cache}/checkout-saga/temporal-cli/<version>/temporal`: outside the repo, so it outlives a clone. */
export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheHome, 'checkout-saga', 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in a directory of PATH. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export async function resolveTemporalCli(log: Log = defaultLog): Promise<TemporalCliExecutable> {
  // 1. An explicit choice wins; a wrong one is an error rather than a silent fallback.
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return { type: 'existing-path', path: fromEnv };
  }

  // 2. Whatever the developer has installed.
  const onPath = findOnPath('temporal');
  if (onPath) return { type: 'existing-path', path: onPath };

  // 3. A binary we built earlier.
  const cached = cachedCliPath();
  if (isExecutableFile(cached)) return { type: 'existing-path', path: cached };

  // 4. Build it from its Go module.
  const go = findOnPath('go');
  if (go) {
    await buildWithLock(go, cached, log);
    return { type: 'existing-path', path: cached };
  }

  // 5. The SDK downloads the CLI itself; this only works with internet access.
  log('no Temporal CLI found and no Go toolchain to build one: falling back to the SDK download (needs internet)');
  return { type: 'cached-download' };
}

// --- building ---------------------------------------------------------------

/**
 * Only one process builds at a time (e.g. jest and `npm start` started
 * together); the others wait for its result. The lock is a directory, because
 * mkdir is atomic, holding the builder's pid so a lock left by a killed build
 * can be recognised as stale and taken over.
 */
async function buildWithLock(go: string, target: string, log: Log): Promise<void> {
  const dir = path.dirname(target);
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
      log(`another process${holder ? ` (pid ${holder})` : ''} is building the Temporal CLI; waiting for it...`);
      waitingSaid = true;
    }
    await sleep(1000);
  }
  try {
    // The holder we waited for may have finished the job.
    if (isExecutableFile(target)) return;
    // Temp dirs of builds that were killed; nobody else builds while we hold the lock.
    for (const name of readdirSync(path.dirname(dir))) {
      if (name.startsWith(`${path.basename(dir)}.build-`)) rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
    }
    await build(go, target, log);
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

async function build(go: string, target: string, log: Log): Promise<void> {
  const started = Date.now();
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${target}`);
  log('the first build downloads many Go modules and compiles for several minutes; later runs reuse the binary');
  // go install writes into GOBIN as it likes; a temp dir beside the target
  // (same filesystem) lets us rename the finished binary into place atomically,
  // so a killed build never leaves a half-written `temporal` behind.
  const tmp = await mkdtemp(`${path.dirname(target)}.build-`);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', `${GO_PACKAGE}@${TEMPORAL_CLI_VERSION}`], {
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
    const built = path.join(tmp, 'temporal');
    if (code !== 0 || !existsSync(built)) throw new Error(`go install ${GO_PACKAGE}@${TEMPORAL_CLI_VERSION} failed (exit ${code})`);
    renameSync(built, target);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `temporal --version`, for messages. */
export function cliVersion(executable: string): string | undefined {
  const r = spawnSync(executable, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

if (require.main === module) {
  resolveTemporalCli()
    .then((exe) => {
      console.log(exe.type === 'existing-path' ? exe.path : 'cached-download');
    })
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
