// `npm run bench:versioning`: what moving from patched() branches to Worker
// Versioning saves per saga, the last patched build against the current one.
//
//   npm run bench:versioning
//   npm run bench:versioning -- --sagas 400 --rounds 5 --concurrency 20
//
// Each round, for each build in turn, on a task queue of its own:
//   1. a fresh worker (bench/takeover-worker.ts, its own process) runs the
//      build's bundle: the last patched one kept in builds/, or this tree's;
//   2. N sagas run to their end, C at a time: four in five complete, the
//      fifth ships to a country the carrier rejects and compensates;
//   3. measured: the CPU time of the worker and of the Temporal server from
//      the worker's start to the last saga's end (one build runs at a time, so
//      the server's is this build's), and from each saga's history its events,
//      workflow tasks, markers, search attribute upserts, encoded size and
//      duration.
// The builds swap places every round, so that neither always runs on the
// fresher (or the busier) server.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { eachLimit } from '../lib/each-limit';
import { workerBuild } from '../lib/workflow-bundle';
import { REJECTED_COUNTRY } from '../services/shipping/shipping-service';
import { TEST_TOKENS } from '../services/payment/test-tokens';
import { deployedTuning, WORKFLOW_INTERCEPTOR_MODULES } from '../worker';
import { checkout } from '../workflows';
import type { CheckoutInput } from '../workflows/checkout-types';
import { procCpuMs } from './cpu';
import { createBenchDatabase, dropDatabase, startBenchDevServer } from './stack';
import type { FromTakeoverWorker, TakeoverWorkerSettings } from './takeover-worker';

const LAST_PATCHED_BUILD = '52853da0f209f753';
const { EventType } = temporal.api.enums.v1;

const { values } = parseArgs({
  options: {
    sagas: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '20' },
  },
});
const sagas = Number(values.sagas);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);

type Build = { label: string; buildId: string; codePath: string };
type Kind = 'happy' | 'compensating';
const KINDS: readonly Kind[] = ['happy', 'compensating'];
/** One saga, read from its history. */
type Saga = { events: number; workflowTasks: number; markers: number; patchMarkers: number; upserts: number; bytes: number; durationMs: number };
type Figures = Omit<Saga, 'durationMs'> & { durationP50Ms: number };
type Round = { build: string; round: number; cpuMsPerSaga: number; serverCpuMsPerSaga: number; byKind: Record<Kind, Figures> };

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Both bundles with every interceptor: the retired build was bundled so (scripts/retire-build.ts),
  // and a current bundle without the span interceptors would be cheaper for that alone.
  const builds = [await bundleOf(LAST_PATCHED_BUILD, 'last patched'), await bundleOf(undefined, 'current')];
  const dbName = `bench_versioning_${randomBytes(4).toString('hex')}`;
  const databaseUrl = await createBenchDatabase(dbName);
  const server = await startBenchDevServer({});
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const results: Round[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
        const result = await runRound(client, { address: server.address, databaseUrl, serverPid: server.pid }, build, round);
        results.push(result);
        const line = (kind: Kind) => {
          const f = result.byKind[kind];
          return `${kind} ${f.events.toFixed(1)} events, ${f.workflowTasks.toFixed(1)} workflow tasks, ${f.bytes.toFixed(0)} B`;
        };
        console.log(
          `[versioning] round ${round} ${build.label}: CPU per saga ${result.cpuMsPerSaga.toFixed(1)} ms worker, ` +
            `${result.serverCpuMsPerSaga.toFixed(1)} ms server; ${KINDS.map(line).join('; ')}`,
        );
      }
    }
  } finally {
    await connection.close();
    await server.teardown();
    await dropDatabase(dbName);
  }
  printTable(builds, results);
}

async function bundleOf(buildId: string | undefined, label: string): Promise<Build> {
  const build = await workerBuild(buildId, WORKFLOW_INTERCEPTOR_MODULES);
  if (buildId && !build.retired) throw new Error(`build ${buildId} is not kept in builds/`);
  // The worker is handed a path: a bundle in memory is too large for its command line.
  if (!('codePath' in build.workflowBundle)) throw new Error('the workflow bundle could not be written to .data/workflow-bundles');
  return { label, buildId: build.buildId, codePath: build.workflowBundle.codePath };
}

type Stack = { address: string; databaseUrl: string; serverPid: number | undefined };

async function runRound(client: Client, { serverPid, ...stack }: Stack, build: Build, round: number): Promise<Round> {
  const taskQueue = `versioning-${build.buildId}-${round}-${randomBytes(3).toString('hex')}`;
  const tuning = deployedTuning(loadConfig({}));
  const worker = await startWorker({ ...stack, taskQueue, tuning, workflowBundle: { codePath: build.codePath } });
  const serverCpuMs = () => (serverPid === undefined ? Number.NaN : (procCpuMs(serverPid) ?? Number.NaN));
  const cpuBefore = procCpuMs(worker.pid)!;
  const serverBefore = serverCpuMs();
  const prefix = `versioning-${randomBytes(4).toString('hex')}`;
  const runs: { kind: Kind; handle: WorkflowHandle<typeof checkout> }[] = [];
  await eachLimit(
    Array.from({ length: sagas }, (_, i) => i),
    concurrency,
    async (i) => {
      const kind: Kind = i % 5 === 4 ? 'compensating' : 'happy';
      const orderId = `${prefix}-${i}`;
      const handle = await client.workflow.start(checkout, { workflowId: `order-${orderId}`, taskQueue, args: [order(orderId, kind)] });
      const { status } = await handle.result();
      const expected = kind === 'happy' ? 'COMPLETED' : 'COMPENSATED';
      if (status !== expected) throw new Error(`${handle.workflowId} (${build.label}) ended ${status}, not ${expected}`);
      runs.push({ kind, handle });
    },
  );
  const cpuMs = procCpuMs(worker.pid)! - cpuBefore;
  const serverMs = serverCpuMs() - serverBefore;
  await worker.stop();

  const read: { kind: Kind; saga: Saga }[] = [];
  await eachLimit(runs, concurrency, async ({ kind, handle }) => {
    read.push({ kind, saga: sagaOf(await handle.fetchHistory()) });
  });
  const figuresOf = (kind: Kind) => figures(read.filter((r) => r.kind === kind).map((r) => r.saga));
  return {
    build: build.buildId,
    round,
    cpuMsPerSaga: cpuMs / sagas,
    serverCpuMsPerSaga: serverMs / sagas,
    byKind: { happy: figuresOf('happy'), compensating: figuresOf('compensating') },
  };
}

/** A happy order, or one the carrier rejects: the saga then refunds, releases the stock and closes the order COMPENSATED. */
function order(orderId: string, kind: Kind): CheckoutInput {
  return {
    orderId,
    customerId: 'cust_bench',
    // createBenchDatabase gives this catalog product a stock that never runs out.
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token: TEST_TOKENS.VISA },
    shippingAddress: { name: 'Bench', line1: '1 Bench St', city: 'London', postalCode: 'N1 9GU', country: kind === 'happy' ? 'GB' : REJECTED_COUNTRY },
  };
}

function sagaOf(history: temporal.api.history.v1.IHistory): Saga {
  const events = history.events ?? [];
  const count = (type: temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === type).length;
  return {
    events: events.length,
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    // Local activities record markers too: the patches are the difference between the builds.
    markers: count(EventType.EVENT_TYPE_MARKER_RECORDED),
    patchMarkers: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
    upserts: count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
    // What the server stores and every replay (a fresh worker, a cache eviction) downloads.
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    durationMs: tsToMs(events.at(-1)!.eventTime) - tsToMs(events[0]!.eventTime),
  };
}

function figures(sagas: Saga[]): Figures {
  const mean = (key: keyof Saga) => sagas.reduce((sum, s) => sum + s[key], 0) / sagas.length;
  const durations = sagas.map((s) => s.durationMs).sort((a, b) => a - b);
  return {
    events: mean('events'),
    workflowTasks: mean('workflowTasks'),
    markers: mean('markers'),
    patchMarkers: mean('patchMarkers'),
    upserts: mean('upserts'),
    bytes: mean('bytes'),
    durationP50Ms: durations[Math.ceil(durations.length / 2) - 1]!,
  };
}

type RunningWorker = { pid: number; stop(): Promise<void> };

async function startWorker(settings: TakeoverWorkerSettings): Promise<RunningWorker> {
  const child: ChildProcess = fork(path.join(__dirname, 'takeover-worker.ts'), [JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: FromTakeoverWorker) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function printTable(builds: Build[], results: Round[]): void {
  const [patched, current] = builds as [Build, Build];
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const of = (build: Build, pick: (r: Round) => number) => median(results.filter((r) => r.build === build.buildId).map(pick));
  const rows: [string, (r: Round) => number, number][] = [
    ['worker CPU per saga (ms), the mix', (r) => r.cpuMsPerSaga, 1],
    ['Temporal server CPU per saga (ms), the mix', (r) => r.serverCpuMsPerSaga, 1],
  ];
  const perKind: [string, keyof Figures, number][] = [
    ['saga duration p50 (ms)', 'durationP50Ms', 0],
    ['events per saga', 'events', 1],
    ['workflow tasks per saga', 'workflowTasks', 1],
    ['markers per saga', 'markers', 1],
    ['of which patch markers', 'patchMarkers', 1],
    ['search attribute upserts per saga', 'upserts', 1],
    ['history size per saga (bytes)', 'bytes', 0],
  ];
  for (const kind of KINDS) for (const [name, key, digits] of perKind) rows.push([`${name}, ${kind}`, (r) => r.byKind[kind][key], digits]);

  console.log(`\n${sagas} sagas per build and round (${sagas / 5} compensating), ${concurrency} at a time, ${rounds} round(s): medians over rounds\n`);
  console.log(`| figure | last patched (${patched.buildId}) | current (${current.buildId}) | current / last patched |`);
  console.log('|---|---|---|---|');
  for (const [name, pick, digits] of rows) {
    const [a, b] = [of(patched, pick), of(current, pick)];
    console.log(`| ${name} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${a === 0 || Number.isNaN(a) ? '-' : (b / a).toFixed(2)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
