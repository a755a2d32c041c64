// `npm run bench:takeover`: how fast a fresh worker takes back the open sagas
// of one that was killed, and which worker options change that.
//
//   npm run bench:takeover
//   npm run bench:takeover -- --sagas 300 --rounds 3 --variants sdk-defaults,deployed
//
// Each round, for each variant, on a task queue of its own:
//   1. a worker (bench/takeover-worker.ts, its own process) runs N sagas into
//      FAILED_NEEDS_MANUAL, where each waits for an operator (a refund the
//      provider refuses, after a carrier that never answers): open sagas with
//      real histories of some 40 events, all in the worker's cache;
//   2. the worker is killed (SIGKILL), and an operator's decision (the resolve
//      update, mark-resolved) is sent to every saga at once;
//   3. a fresh worker with the variant's options starts, at once or after a
//      pause, with an empty cache: for each saga it fetches and replays the
//      history, then runs the decision to the saga's end.
// Measured: from the kill (at once) or from the fresh worker's start (after a
// pause) until each saga closed; the fresh worker's CPU time until the last
// decision was answered. Variants run in turn within each round, so a ratio compares
// runs minutes apart on the same server, not a variant against a later,
// busier server.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { sleep } from '../lib/backoff';
import { loadConfig } from '../lib/config';
import { cachedWorkflowBundle } from '../lib/workflow-bundle';
import { TEST_TOKENS } from '../services/payment/test-tokens';
import { UNREACHABLE_POSTAL_CODE } from '../services/shipping/shipping-service';
import { deployedTuning, workflowInterceptorModules, type CheckoutWorkerTuning } from '../worker';
import { checkout, resolveUpdate } from '../workflows';
import type { CheckoutInput } from '../workflows/checkout-types';
import { ORDER_STATUS } from '../workflows/search-attributes';
import { createBenchDatabase, dropDatabase, startBenchDevServer } from './stack';
import type { FromTakeoverWorker, TakeoverWorkerSettings } from './takeover-worker';

type Variant = { name: string; tuning: CheckoutWorkerTuning; restart: 'at once' | 'after a pause'; about: string };

// What `npm run worker` runs with out of the box: the defaults, whatever this shell's environment says.
const DEPLOYED = deployedTuning(loadConfig({}));
/** Longer than any sticky timeout here: by then every task has moved to the normal queue. */
const PAUSE_MS = 12_000;

const VARIANTS: Record<string, Variant> = {
  'sdk-defaults': { name: 'sdk-defaults', tuning: { maxCachedWorkflows: 1000 }, restart: 'at once', about: 'sticky queue timeout 10 s (the SDK default)' },
  deployed: { name: 'deployed', tuning: DEPLOYED, restart: 'at once', about: 'sticky queue timeout 3 s (STICKY_QUEUE_TIMEOUT_SECONDS)' },
  'sdk-defaults-paused': {
    name: 'sdk-defaults-paused',
    tuning: { maxCachedWorkflows: 1000 },
    restart: 'after a pause',
    about: 'replay alone: every task already on the normal queue',
  },
  'deployed-paused': { name: 'deployed-paused', tuning: DEPLOYED, restart: 'after a pause', about: 'the same, with the deployed tuning' },
  'wft-slots-10': {
    name: 'wft-slots-10',
    tuning: { ...DEPLOYED, maxConcurrentWorkflowTaskExecutions: 10 },
    restart: 'after a pause',
    about: '10 workflow tasks at once (SDK: 40)',
  },
  'wft-slots-100': {
    name: 'wft-slots-100',
    tuning: { ...DEPLOYED, maxConcurrentWorkflowTaskExecutions: 100 },
    restart: 'after a pause',
    about: '100 workflow tasks at once',
  },
  'wft-polls-2': {
    name: 'wft-polls-2',
    tuning: { ...DEPLOYED, maxConcurrentWorkflowTaskPolls: 2 },
    restart: 'after a pause',
    about: '2 workflow task pollers (SDK: 10)',
  },
  'cache-100': { name: 'cache-100', tuning: { ...DEPLOYED, maxCachedWorkflows: 100 }, restart: 'after a pause', about: 'a cache smaller than the open sagas' },
};
const DEFAULT_VARIANTS = ['sdk-defaults', 'deployed', 'deployed-paused', 'wft-slots-10', 'wft-slots-100', 'wft-polls-2', 'cache-100'];

const { values } = parseArgs({
  options: {
    sagas: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    variants: { type: 'string', default: DEFAULT_VARIANTS.join(',') },
  },
});
const sagas = Number(values.sagas);
const rounds = Number(values.rounds);
const variants = values.variants.split(',').map((name) => VARIANTS[name] ?? refuse(`unknown variant ${name}: one of ${Object.keys(VARIANTS).join(', ')}`));

type Result = { variant: string; round: number; sagas: number; lastSeconds: number; p50Seconds: number; p99Seconds: number; cpuMsPerSaga: number };

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dbName = `bench_takeover_${randomBytes(4).toString('hex')}`;
  const databaseUrl = await createBenchDatabase(dbName);
  const server = await startBenchDevServer({});
  // Built once here, so that no worker below pays for bundling.
  await cachedWorkflowBundle(workflowInterceptorModules(false));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const results: Result[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const variant of variants) {
        const result = await takeover(client, { address: server.address, databaseUrl }, variant, round);
        results.push(result);
        console.log(
          `[takeover] round ${round} ${variant.name}: ${sagas} sagas back in ${result.lastSeconds.toFixed(1)} s ` +
            `(p50 ${result.p50Seconds.toFixed(1)} s, p99 ${result.p99Seconds.toFixed(1)} s), ${result.cpuMsPerSaga.toFixed(0)} ms worker CPU per saga`,
        );
      }
    }
  } finally {
    await connection.close();
    await server.teardown();
    await dropDatabase(dbName);
  }
  printTable(results);
}

async function takeover(client: Client, stack: { address: string; databaseUrl: string }, variant: Variant, round: number): Promise<Result> {
  const taskQueue = `takeover-${variant.name}-${round}-${randomBytes(3).toString('hex')}`;
  const settings = { ...stack, taskQueue, tuning: variant.tuning };
  const first = await startWorker(settings);
  const prefix = `takeover-${randomBytes(4).toString('hex')}`;
  const handles = await Promise.all(
    Array.from({ length: sagas }, (_, i) => {
      const orderId = `${prefix}-${i}`;
      return client.workflow.start(checkout, { workflowId: `order-${orderId}`, taskQueue, args: [parkedOrder(orderId)] });
    }),
  );
  await untilCount(client, `TaskQueue = '${taskQueue}' AND ${ORDER_STATUS.name} = 'FAILED_NEEDS_MANUAL'`, sagas, 300_000);
  // Let the queries' workflow tasks and the last completions settle: the sagas are idle, in the cache.
  await sleep(1000);

  first.child.kill('SIGKILL');
  const killedAt = Date.now();
  const answered = handles.map((h) => h.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'bench: taken back by a fresh worker' }] }));
  if (variant.restart === 'after a pause') await sleep(PAUSE_MS);
  const fresh = await startWorker(settings);
  const from = variant.restart === 'at once' ? killedAt : fresh.readyAt;
  const cpuBefore = await fresh.cpuMs();
  await Promise.all(answered);
  const cpuAfter = await fresh.cpuMs();
  await fresh.stop();
  // The server's close times, not when the client heard back: its polls for the updates' outcomes come in batches.
  const closed = await Promise.all(handles.map(async (h) => (await h.describe()).closeTime!.getTime()));
  const times = closed.map((t) => (t - from) / 1000).sort((a, b) => a - b);
  return {
    variant: variant.name,
    round,
    sagas,
    lastSeconds: times.at(-1)!,
    p50Seconds: quantile(times, 0.5),
    p99Seconds: quantile(times, 0.99),
    cpuMsPerSaga: (cpuAfter - cpuBefore) / sagas,
  };
}

/** An order that ends in FAILED_NEEDS_MANUAL: the carrier never answers within the SLA, and the provider refuses the void. */
function parkedOrder(orderId: string): CheckoutInput {
  return {
    orderId,
    customerId: 'cust_bench',
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token: TEST_TOKENS.REFUND_FAILS },
    shippingAddress: { name: 'Bench', line1: '1 Bench St', city: 'London', postalCode: UNREACHABLE_POSTAL_CODE, country: 'GB' },
    deadlines: { orderTtlSeconds: 3600, shippingSlaSeconds: 3, paymentHoldSeconds: 3600 },
  };
}

type RunningWorker = { child: ChildProcess; readyAt: number; cpuMs(): Promise<number>; stop(): Promise<void> };

async function startWorker(settings: TakeoverWorkerSettings): Promise<RunningWorker> {
  const child = fork(path.join(__dirname, 'takeover-worker.ts'), [JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: FromTakeoverWorker['type']) =>
    new Promise<FromTakeoverWorker>((resolve, reject) => {
      const onMessage = (m: FromTakeoverWorker) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`the takeover worker exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next('ready');
  const readyAt = Date.now();
  return {
    child,
    readyAt,
    async cpuMs() {
      const reply = next('cpu');
      child.send({ type: 'cpu' });
      return ((await reply) as { ms: number }).ms;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function untilCount(client: Client, query: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await client.workflow.count(query)).count < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} sagas matched ${query} within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function printTable(results: Result[]): void {
  // At once and after a pause are timed from different moments: each is compared with the first variant restarted the same way.
  const baselineOf = (v: Variant) => variants.find((b) => b.restart === v.restart)!.name;
  const mean = (name: string, key: 'lastSeconds' | 'p50Seconds' | 'cpuMsPerSaga') => {
    const rows = results.filter((r) => r.variant === name);
    return rows.reduce((sum, r) => sum + r[key], 0) / rows.length;
  };
  console.log(`\nTaking back ${sagas} open sagas, ${rounds} round(s); sagas/s against the first variant restarted the same way, in this run\n`);
  console.log('| variant | restarted | sagas/s | vs baseline | p50 | CPU per saga | what it changes |');
  console.log('|---|---|---|---|---|---|---|');
  for (const v of variants) {
    const rate = sagas / mean(v.name, 'lastSeconds');
    const ratio = rate / (sagas / mean(baselineOf(v), 'lastSeconds'));
    console.log(
      `| ${v.name} | ${v.restart} | ${rate.toFixed(1)} | ${ratio.toFixed(2)}x | ${mean(v.name, 'p50Seconds').toFixed(1)} s | ${mean(v.name, 'cpuMsPerSaga').toFixed(0)} ms | ${v.about} |`,
    );
  }
}

function refuse(message: string): never {
  throw new Error(message);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
