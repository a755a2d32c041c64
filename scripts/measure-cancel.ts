// What a cancel, a read and a new order wait for while the worker is behind:
// the situation after a fault in the chaos run, when the worker has hundreds of
// sagas to replay into an empty cache on 2 cores. docs/http-api.md ("What a
// cancel waits for") has the figures.
//
//   npx tsx scripts/measure-cancel.ts --backlog 300 --cancels 40 --mode phases
//   npx tsx scripts/measure-cancel.ts --backlog 300 --cancels 40 --mode client --kill-at 8
//
// It starts a dev server and a fresh database of its own, starts `--backlog`
// sagas while no worker runs (a tenth of them, and every one it cancels, with a
// carrier that never answers, so that they stay cancellable), then starts the
// worker as a process of its own (optionally SIGKILLed after `--kill-at`
// seconds and started again, as the chaos run does), and from that moment
// cancels one saga every `--every-ms`, reads one and places one.
//
// `--mode phases` times each step of the cancel as the API did it before
// (describe, workflow-task check, status query, then the update: until it is
// accepted, until it completes), with no deadline of its own, to see how long
// each one waits. `--mode client` times the API's CheckoutClient as it is now,
// end to end, with its deadlines, and counts its answers.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowUpdateStage } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { bundleWorkflowCode } from '@temporalio/worker';
import { CheckoutClient } from '../api/checkout-client';
import { databaseUrl } from '../lib/config';
import { createDb } from '../lib/db';
import { workflowTaskTrouble } from '../lib/workflow-task-health';
import { InventoryService } from '../services/inventory/inventory-service';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker';
import { cancelUpdate, statusQuery } from '../workflows';
import type { CheckoutInput } from '../workflows/checkout-types';
import { workflowIdFor } from '../workflows/workflow-id';
import { migrate, quoteIdent, withDatabase } from './db/migrate';
import { adminQuery } from './db/scratch';
import { seedCatalog } from './db/seed';
import { freePort, startDevServer } from './dev-server';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '300' },
    cancels: { type: 'string', default: '40' },
    'every-ms': { type: 'string', default: '500' },
    mode: { type: 'string', default: 'phases' },
    'kill-at': { type: 'string' },
    'restart-server-at': { type: 'string' },
  },
});
const BACKLOG = Number(values.backlog);
const CANCELS = Number(values.cancels);
const EVERY_MS = Number(values['every-ms']);
const MODE = values.mode as 'phases' | 'client';
const KILL_AT_S = values['kill-at'] === undefined ? undefined : Number(values['kill-at']);
const RESTART_SERVER_AT_S = values['restart-server-at'] === undefined ? undefined : Number(values['restart-server-at']);
const ROOT = path.resolve(__dirname, '..');
const TASK_QUEUE = 'measure-cancel';
// Long deadlines: nothing but the cancels ends these sagas during the run.
const DEADLINES = { orderTtlSeconds: 1800, shippingSlaSeconds: 1200, paymentHoldSeconds: 1800 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[measure] ${m}\n`);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: string }> {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, value };
  } catch (err) {
    return { ms: performance.now() - t0, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 160) };
  }
}

function percentiles(samples: number[]): string {
  if (samples.length === 0) return 'no samples';
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return `n=${sorted.length} p50 ${at(50).toFixed(0)} ms, p90 ${at(90).toFixed(0)} ms, p99 ${at(99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
}

function input(orderId: string, postalCode: string): CheckoutInput {
  return {
    orderId,
    customerId: 'cust_measure',
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode, country: 'GB' },
    deadlines: DEADLINES,
  };
}

async function main(): Promise<void> {
  const dbName = `measure_cancel_${process.pid}`;
  const dbUrl = withDatabase(databaseUrl(), dbName);
  await adminQuery(databaseUrl(), `CREATE DATABASE ${quoteIdent(dbName)}`);
  await migrate(dbUrl, { log: () => undefined });
  await seedCatalog(dbUrl);
  const db = createDb(dbUrl, 2);
  await new InventoryService(db).upsertProduct({ sku: 'KB-001', name: 'Mechanical keyboard', price: 12900, stock: 1_000_000 });
  await db.$disconnect();

  // On disk, so that a restart (--restart-server-at) keeps the sagas, as the chaos run's does.
  const port = await freePort();
  const dbFilename = path.join(mkdtempSync(path.join(tmpdir(), 'measure-cancel-temporal-')), 'temporal.db');
  const startServer = () => startDevServer({ port, headless: true, serverLogLevel: 'error', dbFilename, log });
  let server = await startServer();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const checkouts = new CheckoutClient(client, TASK_QUEUE, DEADLINES);
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
  const bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'measure-cancel-')), 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    WORKFLOW_BUNDLE: bundlePath,
    WORKER_METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
    NATS_URL: 'nats://127.0.0.1:1',
    LOG_LEVEL: 'warn',
  };
  const startWorker = () =>
    spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'test', 'support', 'worker-process.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });

  let worker: ReturnType<typeof startWorker> | undefined;
  try {
    // The backlog: sagas started while no worker runs, their first tasks waiting in the queue.
    const run = `${Date.now().toString(36)}`;
    const cancelIds = Array.from({ length: CANCELS }, (_, i) => `ord_c${run}${i}`);
    const others = Array.from({ length: BACKLOG - CANCELS }, (_, i) => `ord_b${run}${i}`);
    for (const [i, orderId] of [...cancelIds, ...others].entries()) {
      // A tenth of the rest wait on the carrier too, as the cancelled ones do.
      const postalCode = i < CANCELS || i % 10 === 0 ? '00000' : 'N1 9GU';
      await checkouts.start({ ...input(orderId, postalCode) }, 'measure');
    }
    log(`${BACKLOG} sagas started with no worker; starting the worker (mode ${MODE})`);

    worker = startWorker();
    const t0 = Date.now();
    if (KILL_AT_S !== undefined) {
      void sleep(KILL_AT_S * 1000).then(async () => {
        log(`SIGKILL the worker at ${((Date.now() - t0) / 1000).toFixed(1)} s, and start another`);
        process.kill(-worker!.pid!, 'SIGKILL');
        await sleep(500);
        worker = startWorker();
      });
    }

    if (RESTART_SERVER_AT_S !== undefined) {
      void sleep(RESTART_SERVER_AT_S * 1000).then(async () => {
        const down = Date.now();
        log(`restarting the dev server at ${((down - t0) / 1000).toFixed(1)} s`);
        await server.teardown();
        server = await startServer();
        log(`the dev server is back after ${((Date.now() - down) / 1000).toFixed(1)} s`);
      });
    }

    const phases: Record<string, number[]> = {
      describe: [],
      trouble: [],
      query: [],
      accepted: [],
      completed: [],
      cancel: [],
      outcome: [],
      taken: [],
      read: [],
      start: [],
    };
    const sentAt = new Map<string, number>();
    const outcomes: Record<string, number> = {};
    const count = (what: string) => (outcomes[what] = (outcomes[what] ?? 0) + 1);
    const lines: string[] = [];

    const cancelPhased = async (orderId: string, at: number) => {
      const handle = client.workflow.getHandle(workflowIdFor(orderId));
      const d = await timed(() => handle.describe());
      phases.describe!.push(d.ms);
      const t = await timed(() => workflowTaskTrouble(client, { workflowId: handle.workflowId }, d.value));
      phases.trouble!.push(t.ms);
      // The old code queried without a deadline of its own.
      const q = await timed(() => handle.query(statusQuery));
      phases.query!.push(q.ms);
      const started = performance.now();
      const a = await timed(() =>
        client.withDeadline(Date.now() + 120_000, () => handle.startUpdate(cancelUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED })),
      );
      phases.accepted!.push(a.ms);
      const c = a.value ? await timed(() => client.withDeadline(Date.now() + 120_000, () => a.value!.result())) : undefined;
      if (c) phases.completed!.push(c.ms);
      const total = d.ms + t.ms + q.ms + (performance.now() - started);
      phases.cancel!.push(total);
      count(a.error ?? c?.error ?? 'cancelled');
      lines.push(
        `${at.toFixed(1)} s ${orderId}: describe ${d.ms.toFixed(0)}, trouble ${t.ms.toFixed(0)}, query ${q.ms.toFixed(0)}${q.error ? ` (${q.error})` : ''}, ` +
          `accepted after ${a.ms.toFixed(0)}${a.error ? ` (${a.error})` : ''}, completed after ${c ? c.ms.toFixed(0) : '-'}${c?.error ? ` (${c.error})` : ''}; total ${total.toFixed(0)} ms`,
      );
    };
    // As a client that honours Retry-After (api/app.ts: 2 s for a pending cancel, 10 s for a recovering saga) does.
    const cancelClient = async (orderId: string, at: number) => {
      const first = performance.now();
      const answers: string[] = [];
      for (;;) {
        const r = await timed(() => checkouts.cancel(orderId));
        phases.cancel!.push(r.ms);
        const what = r.error ?? (typeof r.value === 'string' ? r.value : Object.keys(r.value!)[0]!);
        count(what);
        answers.push(`${what} ${r.ms.toFixed(0)}`);
        const retryAfterS = what === 'pending' ? 2 : what === 'saga' && !(r.value as { saga: { stuck: boolean } }).saga.stuck ? 10 : undefined;
        if (retryAfterS === undefined || answers.length >= 60) break;
        await sleep(retryAfterS * 1000);
      }
      const untilOutcome = performance.now() - first;
      phases.outcome!.push(untilOutcome);
      lines.push(`${at.toFixed(1)} s ${orderId}: ${answers.join(', ')}; outcome after ${(untilOutcome / 1000).toFixed(1)} s`);
    };

    const work: Promise<void>[] = [];
    for (const [i, orderId] of cancelIds.entries()) {
      const at = (Date.now() - t0) / 1000;
      sentAt.set(orderId, Date.now());
      work.push((MODE === 'phases' ? cancelPhased : cancelClient)(orderId, at));
      // A read of another saga of the backlog, and a new order, beside each cancel.
      const reading = others[i % others.length]!;
      work.push(
        timed(() => checkouts.read(reading)).then((r) => {
          phases.read!.push(r.ms);
          if (r.error) count(`read: ${r.error}`);
        }),
      );
      // Before: the start had no deadline of its own; the SDK retries an unavailable server for about 20 s.
      const placing = (orderId: string): Promise<unknown> =>
        MODE === 'phases'
          ? client.workflow.start('checkout', { workflowId: workflowIdFor(orderId), taskQueue: TASK_QUEUE, args: [input(orderId, 'N1 9GU')] })
          : checkouts.start(input(orderId, 'N1 9GU'), 'measure');
      work.push(
        timed(() => placing(`ord_n${run}${i}`)).then((r) => {
          phases.start!.push(r.ms);
          if (r.error) count(`start: ${r.error}`);
        }),
      );
      await sleep(EVERY_MS);
    }
    await Promise.all(work);
    // Every cancel reached its saga once: one accepted cancel update in each history.
    const acceptedCancels = await Promise.all(
      cancelIds.map(async (orderId) => {
        const history = await client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
        const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'cancel');
        // When the saga took the cancel, from the first time it was sent: what the customer waited for, however often they asked.
        const at = accepted[0] && optionalTsToMs(accepted[0].eventTime);
        if (at !== undefined) phases.taken!.push(at - sentAt.get(orderId)!);
        return accepted.length;
      }),
    );
    const sagasWith: Record<number, number> = {};
    for (const n of acceptedCancels) sagasWith[n] = (sagasWith[n] ?? 0) + 1;
    console.log(`sagas by number of accepted cancel updates in their history: ${JSON.stringify(sagasWith)}`);
    for (const line of lines.sort()) log(line);
    for (const [phase, samples] of Object.entries(phases)) if (samples.length) console.log(`${phase.padEnd(10)} ${percentiles(samples)}`);
    console.log(`outcomes: ${JSON.stringify(outcomes)}`);
  } finally {
    // Its own process group: the node process tsx runs goes too.
    if (worker?.pid) process.kill(-worker.pid, 'SIGKILL');
    await connection.close();
    await server.teardown();
    await adminQuery(databaseUrl(), `DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
