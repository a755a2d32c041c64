// Finds (or builds) the Temporal server and its SQL schema tool, for the
// production-topology server of scripts/temporal-server.ts.
//
// Like the CLI (temporal-cli.ts), built once from its Go module into a
// versioned cache outside the repo. The PostgreSQL schema ships in the same
// module, so it is copied beside the binaries: the server then does not
// depend on Go's module cache, which `go clean -modcache` empties.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { goInstallWithLock, isInstalled, type Log } from './go-install';
import { findOnPath } from './temporal-cli';

/** The server the CLI v1.5.1 embeds, so the dev server and this one run the same code. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';
const BINARIES = {
  'temporal-server': `${MODULE}/cmd/server`,
  'temporal-sql-tool': `${MODULE}/cmd/tools/sql`,
};
/** Inside the module and inside our cache. */
const SCHEMA_DIR = path.join('schema', 'postgresql', 'v12');

export type TemporalServerBinaries = { server: string; sqlTool: string; schemaDir: string };

/** `${XDG_CACHE_HOME:-~/.cache}/checkout-saga/temporal-server/<version>/`. */
export function cachedServerDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheHome, 'checkout-saga', 'temporal-server', TEMPORAL_SERVER_VERSION);
}

function binariesIn(dir: string): TemporalServerBinaries {
  return { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool'), schemaDir: path.join(dir, SCHEMA_DIR) };
}

export async function resolveTemporalServer(log: Log): Promise<TemporalServerBinaries> {
  const dir = cachedServerDir();
  if (isInstalled({ binaries: BINARIES, dir })) return binariesIn(dir);
  // Unlike the CLI there is no download to fall back on: Go is required.
  const go = findOnPath('go');
  if (!go) throw new Error('building the Temporal server needs Go (https://go.dev/dl/) on the PATH');
  await goInstallWithLock({
    go,
    what: `the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool`,
    version: TEMPORAL_SERVER_VERSION,
    binaries: BINARIES,
    dir,
    beforeCommit: () => copySchema(go, dir),
    log,
  });
  return binariesIn(dir);
}

/** Copies the PostgreSQL schema out of the module `go install` just fetched. */
function copySchema(go: string, dir: string): void {
  const modCache = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const from = path.join(modCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`, SCHEMA_DIR);
  const to = path.join(dir, SCHEMA_DIR);
  rmSync(to, { recursive: true, force: true });
  copyTree(from, to);
}

/** Contents only: the module cache's files are read-only, and copies keeping that mode could not be replaced later. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) copyTree(src, dst);
    else writeFileSync(dst, readFileSync(src));
  }
}
