// Starts the Temporal server itself, not the dev server: PostgreSQL
// persistence and visibility, several history shards, and the frontend,
// history, matching and worker services each on their own ports, in one
// process and without Docker. The topology of a production cluster, on one
// machine; see docs/operations.md.
//
// `npm run temporal-server` runs it in the foreground on the databases
// `temporal` and `temporal_visibility`; the tests (TEMPORAL_SERVER=postgres)
// and the bench (--server postgres) call startTemporalServer, which returns
// what startDevServer returns: an address and a teardown.
import { Connection } from '@temporalio/client';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseUrl } from '../lib/config';
import { stopProcess } from './child-process';
import { freePort, SEARCH_ATTRIBUTES } from './dev-server';
import type { Log } from './go-install';
import { resolveTemporalServer, TEMPORAL_SERVER_VERSION } from './temporal-server-build';
import { DEFAULT_HISTORY_SHARDS, MAX_MEMBERSHIP_PORT, renderServerConfig, SERVER_SERVICES, type ServerPorts } from './temporal-server-config';
import { ensureNamespace } from './temporal-namespace';
import { dropDatabases, pgEndpoint, setupSchema } from './temporal-server-schema';

const ROOT = path.resolve(__dirname, '..');
const DYNAMIC_CONFIG = path.join(ROOT, 'deploy', 'temporal-dynamic-config.yaml');
const NAMESPACE = 'default';

export type TemporalServerOptions = {
  /** Persistence and visibility databases; kept, and reused by the next start. */
  databases?: { persistence: string; visibility: string };
  /** Fresh databases with unique names instead, dropped at teardown (tests, bench). */
  freshDatabases?: boolean;
  /** The PostgreSQL server, as a URL of any database on it; DATABASE_URL's by default. */
  pgUrl?: string;
  /** Frontend (gRPC) port; a free one if omitted or 0. */
  port?: number;
  numHistoryShards?: number;
  /** Where the config and the server's log go; kept. A temp dir, removed at teardown, if omitted. */
  dir?: string;
  serverLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  log?: Log;
};

export type TemporalServer = {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  pid: number;
  databases: { persistence: string; visibility: string };
  logFile: string;
  teardown(): Promise<void>;
};

const DEFAULT_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' };

const defaultLog: Log = (m) => process.stderr.write(`[temporal-server] ${m}\n`);

export async function startTemporalServer(opts: TemporalServerOptions = {}): Promise<TemporalServer> {
  const log = opts.log ?? defaultLog;
  const bins = await resolveTemporalServer(log);
  // From here on: what every start costs, the build aside.
  const started = Date.now();
  const pgUrl = opts.pgUrl ?? databaseUrl();
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const databases = opts.freshDatabases
    ? { persistence: `temporal_${suffix}`, visibility: `temporal_visibility_${suffix}` }
    : (opts.databases ?? DEFAULT_DATABASES);
  const dropOnTeardown = opts.freshDatabases ? [databases.persistence, databases.visibility] : [];
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'temporal-server-'));
  let child: ChildProcess | undefined;
  const cleanUp = async () => {
    if (child) await stopProcess(child, 10_000);
    await dropDatabases(pgUrl, dropOnTeardown);
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await setupSchema(bins, pgUrl, databases.persistence, 'temporal', log);
    await setupSchema(bins, pgUrl, databases.visibility, 'visibility', log);
    const schemaReady = Date.now();

    const ports = await freePorts(opts.port);
    const configDir = path.join(dir, 'config');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      path.join(configDir, 'development.yaml'),
      renderServerConfig({
        ports,
        db: pgEndpoint(pgUrl),
        persistenceDb: databases.persistence,
        visibilityDb: databases.visibility,
        numHistoryShards: opts.numHistoryShards ?? DEFAULT_HISTORY_SHARDS,
        dynamicConfigFile: DYNAMIC_CONFIG,
        logLevel: opts.serverLogLevel ?? 'warn',
      }),
    );
    const logFile = path.join(dir, 'server.log');
    const out = openSync(logFile, 'a');
    // No authorizer, as on the dev server: it listens on 127.0.0.1 only.
    child = spawn(bins.server, ['--root', dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], { stdio: ['ignore', out, out] });
    closeSync(out);
    const address = `127.0.0.1:${ports.frontend.grpc}`;
    const connection = await waitForFrontend(address, child, logFile);
    const answered = Date.now();
    try {
      await ensureNamespace(connection, NAMESPACE, SEARCH_ATTRIBUTES, log);
    } finally {
      await connection.close();
    }
    log(
      `Temporal server ${TEMPORAL_SERVER_VERSION} on ${address}: ${opts.numHistoryShards ?? DEFAULT_HISTORY_SHARDS} history shards, ` +
        `databases ${databases.persistence} and ${databases.visibility}; ready in ${Date.now() - started} ms ` +
        `(schema ${schemaReady - started} ms, frontend ${answered - schemaReady} ms, namespace ${Date.now() - answered} ms)`,
    );

    let tornDown = false;
    return {
      address,
      pid: child.pid!,
      databases,
      logFile,
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        await cleanUp();
      },
    };
  } catch (err) {
    await cleanUp().catch(() => undefined);
    throw err;
  }
}

/** Nine ports: gRPC and membership for each of the four services, and the frontend's HTTP API. */
async function freePorts(frontend?: number): Promise<ServerPorts> {
  const entries = [];
  for (const s of SERVER_SERVICES)
    entries.push([s, { grpc: s === 'frontend' && frontend ? frontend : await freePort(), membership: await freeMembershipPort() }]);
  return { ...Object.fromEntries(entries), frontendHttp: await freePort() } as ServerPorts;
}

/** A free port at most MAX_MEMBERSHIP_PORT, tried at random above the well-known ones, since the kernel's picks are all higher. */
async function freeMembershipPort(): Promise<number> {
  const low = 20000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (MAX_MEMBERSHIP_PORT - low + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${MAX_MEMBERSHIP_PORT}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function waitForFrontend(address: string, child: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => logTail(logFile);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the Temporal server exited (${child.exitCode ?? child.signalCode}); its log ends:\n${tail()}`);
    try {
      return await Connection.connect({ address, connectTimeout: 1000 });
    } catch {
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within ${timeoutMs / 1000} s; its log ends:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The last lines of the server's JSON log, without their stack traces. */
function logTail(logFile: string, lines = 10): string {
  return readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => {
      try {
        const { level, msg, error } = JSON.parse(line) as Record<string, string>;
        return `${level}: ${msg}${error ? `: ${error}` : ''}`;
      } catch {
        return line;
      }
    })
    .join('\n');
}

/** `npm run temporal-server [-- --port 7233 --shards 4 --db temporal --visibility-db temporal_visibility]`: in the foreground until Ctrl-C. */
async function main(argv: string[]): Promise<void> {
  const opts: TemporalServerOptions = { databases: { ...DEFAULT_DATABASES }, dir: path.join(ROOT, '.data', 'temporal-server'), serverLogLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? fail(`${argv[i - 1]} needs a value`);
    switch (argv[i]) {
      case '--port':
        opts.port = Number(value());
        break;
      case '--shards':
        opts.numHistoryShards = Number(value());
        break;
      case '--db':
        opts.databases!.persistence = value();
        break;
      case '--visibility-db':
        opts.databases!.visibility = value();
        break;
      default:
        fail(`unknown flag ${argv[i]}`);
    }
  }
  opts.port ??= 7233;
  const server = await startTemporalServer(opts);
  defaultLog(`TEMPORAL_ADDRESS=${server.address}; the server's log is ${path.relative(process.cwd(), server.logFile)}; Ctrl-C stops it`);
  const stop = () => void server.teardown().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  throw new Error(message);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
