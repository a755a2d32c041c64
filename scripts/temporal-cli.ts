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
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { goInstallWithLock, type Log } from './go-install';

export type { Log } from './go-install';

/**
 * v1.5.1 is the last CLI release that `go install pkg@version` accepts: from
 * v1.6.0 on its go.mod has a `replace` directive. It embeds server 1.29.1.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalCliExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

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
    await goInstallWithLock({
      go,
      what: `the Temporal CLI ${TEMPORAL_CLI_VERSION}`,
      version: TEMPORAL_CLI_VERSION,
      binaries: { [path.basename(cached)]: GO_PACKAGE },
      dir: path.dirname(cached),
      log,
    });
    return { type: 'existing-path', path: cached };
  }

  // 5. The SDK downloads the CLI itself; this only works with internet access.
  log('no Temporal CLI found and no Go toolchain to build one: falling back to the SDK download (needs internet)');
  return { type: 'cached-download' };
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
