// The pieces of a fresh stack for one bench run: its own database, its own
// Temporal server on free ports (the dev server, or with --server postgres the
// production-topology one), and (for the full-checkout path) the real API as a
// separate process.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createDb } from '../lib/db';
import { databaseUrl } from '../lib/config';
import { stopProcess } from '../scripts/child-process';
import { migrate, quoteIdent, withDatabase } from '../scripts/db/migrate';
import { adminQuery } from '../scripts/db/scratch';
import { seedCatalog } from '../scripts/db/seed';
import { freePort, startDevServer, waitForHttp } from '../scripts/dev-server';
import type { ServerLever } from '../scripts/temporal-settings';
import { startTemporalServer } from '../scripts/temporal-server';
import { InventoryService } from '../services/inventory/inventory-service';
import { findPids } from './cpu';
import { BENCH_PRICE, BENCH_SKU, BENCH_STOCK } from './workload';

export const ROOT = path.resolve(__dirname, '..');

/** The URL of database `name` on the server of DATABASE_URL. */
export function urlFor(name: string): string {
  return withDatabase(databaseUrl(), name);
}

/** A new database, migrated, with the demo catalog and a bench product whose stock never runs out. */
export async function createBenchDatabase(name: string): Promise<string> {
  const url = urlFor(name);
  await migrate(url, { log: () => undefined });
  await seedCatalog(url);
  const db = createDb(url, 1);
  try {
    const inventory = new InventoryService(db);
    await inventory.upsertProduct({ sku: BENCH_SKU, name: 'Bench widget', price: BENCH_PRICE, stock: BENCH_STOCK });
    // The API path orders a catalog product: give it the same unlimited stock.
    await inventory.upsertProduct({ sku: 'KB-001', name: 'Mechanical keyboard', price: 12900, stock: BENCH_STOCK });
  } finally {
    await db.$disconnect();
  }
  return url;
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(databaseUrl(), `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

export type DevServerSettings = { dbFilename?: string; sqlitePragmas?: string[]; withoutLevers?: ServerLever[] };

export type BenchDevServer = { env?: TestWorkflowEnvironment; address: string; pid?: number; teardown(): Promise<void> };

/** `--server`: which Temporal server the Temporal rows run on. */
export type BenchServerKind = 'dev' | 'postgres';
export const BENCH_SERVER_KINDS: readonly BenchServerKind[] = ['dev', 'postgres'];

/**
 * The dev server with these settings, or the production-topology server
 * (PostgreSQL, 4 history shards) on fresh databases dropped at teardown; the
 * dev server's SQLite settings do not apply to it.
 */
export function startBenchServer(kind: BenchServerKind, settings: DevServerSettings): Promise<BenchDevServer> {
  return kind === 'postgres' ? startTemporalServer({ freshDatabases: true, serverLogLevel: 'error' }) : startBenchDevServer(settings);
}

/** The dev server without its UI, quiet, on a free port; in memory unless dbFilename is given. */
export async function startBenchDevServer(settings: DevServerSettings): Promise<BenchDevServer> {
  const port = await freePort();
  const extraArgs: string[] = [];
  for (const p of settings.sqlitePragmas ?? []) extraArgs.push('--sqlite-pragma', p);
  // For experiments with server settings, e.g. "--dynamic-config-value matching.numTaskqueueReadPartitions=1".
  extraArgs.push(...(process.env.BENCH_DEV_SERVER_ARGS?.split(' ').filter(Boolean) ?? []));
  // The server settings `npm start` and the tests use (scripts/temporal-settings.ts) but those left out for an A/B, without the UI.
  const { env, address, teardown } = await startDevServer({
    port,
    headless: true,
    dbFilename: settings.dbFilename,
    serverLogLevel: 'error',
    withoutLevers: settings.withoutLevers,
    extraArgs,
  });
  const pid = findPids(['start-dev', `${port}`])[0];
  return { env, address, pid, teardown };
}

export type ApiProcess = { url: string; pid: number; stop(): Promise<void> };

/** The real API (api/server.ts) as its own node process. */
export async function startApi(opts: {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  poolSize: number;
  payloadKey?: string;
}): Promise<ApiProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      TEMPORAL_TASK_QUEUE: opts.taskQueue,
      DB_POOL_SIZE: String(opts.poolSize),
      // The limiter still counts every request, as deployed; its threshold is for one client's abuse, and the
      // bench is one client placing thousands of orders on purpose.
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...(opts.payloadKey && { TEMPORAL_PAYLOAD_KEY: opts.payloadKey }),
      PORT: String(port),
      // Any free port: a running npm start holds the default one.
      API_METRICS_PORT: '0',
      // A local API, as npm start runs it: outside development it would want a real OPERATOR_TOKEN.
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitForHttp(`${url}/healthz`, 60_000))) {
    child.kill('SIGKILL');
    throw new Error('the API did not start within 60 s');
  }
  return {
    url,
    pid: child.pid!,
    stop: () => stopProcess(child, 5000),
  };
}
