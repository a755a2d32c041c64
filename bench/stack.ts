// The pieces of a fresh stack for one bench run: its own database, its own
// Temporal dev server on free ports, and (for the full-checkout path) the real
// API as a separate process.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { createDb } from '../lib/db';
import { databaseUrl } from '../lib/config';
import { migrate } from '../scripts/db/migrate';
import { seedCatalog } from '../scripts/db/seed';
import { DEV_SERVER_DYNAMIC_CONFIG, DEV_SERVER_IP, DEV_SERVER_NAMESPACE, SEARCH_ATTRIBUTES, freePort, waitForHttp } from '../scripts/dev-server';
import { resolveTemporalCli } from '../scripts/temporal-cli';
import { InventoryService } from '../services/inventory/inventory-service';
import { findPids } from './cpu';
import { BENCH_PRICE, BENCH_SKU, BENCH_STOCK } from './workload';

export const ROOT = path.resolve(__dirname, '..');

export function urlFor(name: string): string {
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
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
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export type DevServerSettings = { dbFilename?: string; sqlitePragmas?: string[] };

export type BenchDevServer = { env: TestWorkflowEnvironment; address: string; pid?: number; teardown(): Promise<void> };

/** The dev server without its UI, quiet, on a free port; in memory unless dbFilename is given. */
export async function startBenchDevServer(settings: DevServerSettings): Promise<BenchDevServer> {
  const executable = await resolveTemporalCli();
  const port = await freePort();
  // The server settings `npm start` and the tests use (eager activity dispatch).
  const extraArgs = ['--headless', ...DEV_SERVER_DYNAMIC_CONFIG];
  for (const p of settings.sqlitePragmas ?? []) extraArgs.push('--sqlite-pragma', p);
  // For experiments with server settings, e.g. "--dynamic-config-value matching.numTaskqueueReadPartitions=1".
  extraArgs.push(...(process.env.BENCH_DEV_SERVER_ARGS?.split(' ').filter(Boolean) ?? []));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: DEV_SERVER_IP,
      port,
      ui: false,
      dbFilename: settings.dbFilename,
      namespace: DEV_SERVER_NAMESPACE,
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
      extraArgs,
    },
  });
  const pid = findPids(['start-dev', `${port}`])[0];
  return { env, address: env.address, pid, teardown: () => env.teardown() };
}

export type ApiProcess = { url: string; pid: number; stop(): Promise<void> };

/** The real API (api/server.ts) as its own node process. */
export async function startApi(opts: { databaseUrl: string; temporalAddress: string; taskQueue: string; poolSize: number }): Promise<ApiProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      TEMPORAL_TASK_QUEUE: opts.taskQueue,
      DB_POOL_SIZE: String(opts.poolSize),
      PORT: String(port),
      // Any free port: a running npm start holds the default one.
      API_METRICS_PORT: '0',
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
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
