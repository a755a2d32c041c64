// What the closed loop drives: one saga start-to-terminal per call, on each system.
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { createCheckoutActivities } from '../activities/checkout-activities';
import { loadConfig } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { createDb } from '../lib/db';
import { createCheckoutWorker } from '../worker';
import { createServices } from '../services';
import type { CheckoutState } from '../workflows/checkout-types';
import { sagaBreakdown, type Breakdown } from './breakdown';
import type { Watched } from './cpu';
import type { RunOne } from './load';
import { countryFor, runBenchSaga, type BenchInput } from './saga';

type BenchSagaInput = BenchInput & { localActivities?: boolean };
import { startApi, type BenchDevServer } from './stack';
import { createBenchActivities, createNoopBenchActivities } from './temporal-activities';
import { acceptedUpdate, benchSaga } from './temporal-workflows';
import { benchSteps, postOrderRequest } from './workload';

export type Target = {
  runOne: RunOne;
  watched(): Watched;
  stop(): Promise<void>;
  /** Where the milliseconds of the latest sagas went (Temporal only). */
  explain?(): Promise<Breakdown | undefined>;
  /** For the memory measurement (memory.ts): the full checkout's API, the worker's cache, its client. */
  memory?: { apiUrl?: string; cachedWorkflows(): number; client: Client };
};

/** Order ids unique across the whole run: every target gets its own prefix. */
export const orderIdFor = (prefix: string, n: number) => `ord_${prefix}_${n}`;

/** The 5 steps called directly, with no engine: the baseline. */
export async function inProcessTarget(opts: { dbUrl: string; pool: number; prefix: string }): Promise<Target> {
  const db = createDb(opts.dbUrl, opts.pool);
  const steps = benchSteps(createServices(db));
  return {
    runOne: async (n) => {
      const r = await runBenchSaga({ orderId: orderIdFor(opts.prefix, n), country: countryFor(n) }, (step, input) => steps[step](input));
      return { status: r.status };
    },
    watched: () => ({}),
    stop: () => db.$disconnect(),
  };
}

export type WorkerTuning = Pick<
  WorkerOptions,
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskPolls'
  | 'maxCachedWorkflows'
  | 'workflowTaskPollerBehavior'
  | 'activityTaskPollerBehavior'
>;

export type TemporalOptions = {
  server: BenchDevServer;
  dbUrl: string;
  pool: number;
  prefix: string;
  bundle: WorkerOptions['workflowBundle'];
  localActivities: boolean;
  eager: boolean;
  tuning: WorkerTuning;
  /** '5step': benchSaga started by the Temporal client; 'api': the real checkout, started by POST /orders. */
  mode: '5step' | 'api';
  /** The 5 steps do nothing (see createNoopBenchActivities): the engine's own cost. */
  noopSteps?: boolean;
  /** Start with Update-with-Start, which answers once the order exists; its latency is reported as the POST latency. */
  updateWithStart?: boolean;
  /**
   * For mode 'api': the worker as worker.ts deploys it (createCheckoutWorker: its activity interceptors, its
   * workflow sinks, and this bundle, which holds the workflow interceptors it was built with), and the payload
   * key the worker and the API encrypt with, if any.
   */
  deployed?: { bundle: WorkerOptions['workflowBundle']; payloadKey?: string };
};

/**
 * A worker with the application's activities and the bench's, in this
 * process; the client shares its NativeConnection, which eager start needs.
 */
export async function temporalTarget(opts: TemporalOptions): Promise<Target> {
  const db = createDb(opts.dbUrl, opts.pool);
  const services = createServices(db);
  const connection = await NativeConnection.connect({ address: opts.server.address });
  const payloadKey = opts.deployed?.payloadKey;
  // The same converter as the worker's, or the results would not decode.
  const converter = dataConverter(loadConfig({ ...process.env, TEMPORAL_PAYLOAD_KEY: payloadKey }));
  const client = new Client({ connection, namespace: 'default', dataConverter: converter });
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const worker = opts.deployed
    ? await createCheckoutWorker({
        connection,
        namespace: 'default',
        taskQueue,
        db,
        services,
        workflowBundle: opts.deployed.bundle,
        dataConverter: converter,
        tuning: opts.tuning,
      })
    : await Worker.create({
        connection,
        namespace: 'default',
        taskQueue,
        workflowBundle: opts.bundle,
        activities: { ...createCheckoutActivities(services), ...(opts.noopSteps ? createNoopBenchActivities() : createBenchActivities(services)) },
        ...opts.tuning,
      });
  const running = worker.run();
  const api =
    opts.mode === 'api'
      ? await startApi({ databaseUrl: opts.dbUrl, temporalAddress: opts.server.address, taskQueue, poolSize: opts.pool, payloadKey })
      : undefined;

  const recent: string[] = [];
  const remember = (workflowId: string) => {
    recent.push(workflowId);
    if (recent.length > 20) recent.shift();
  };

  const runOne: RunOne =
    opts.mode === '5step'
      ? async (n) => {
          const orderId = orderIdFor(opts.prefix, n);
          const options = {
            taskQueue,
            workflowId: `bench-${orderId}`,
            args: [{ orderId, country: countryFor(n), localActivities: opts.localActivities }] as [BenchSagaInput],
          };
          if (opts.updateWithStart) {
            const t0 = performance.now();
            const start = new WithStartWorkflowOperation(benchSaga, { ...options, workflowIdConflictPolicy: 'FAIL' });
            await client.workflow.executeUpdateWithStart(acceptedUpdate, { startWorkflowOperation: start });
            const postMs = performance.now() - t0;
            const handle = await start.workflowHandle();
            const r = await handle.result();
            remember(handle.workflowId);
            return { status: r.status, postMs };
          }
          const t0 = performance.now();
          const handle = await client.workflow.start(benchSaga, { ...options, requestEagerStart: opts.eager });
          const postMs = performance.now() - t0;
          const r = await handle.result();
          remember(handle.workflowId);
          return { status: r.status, postMs, eagerlyStarted: handle.eagerlyStarted };
        }
      : async (n) => {
          const t0 = performance.now();
          const res = await fetch(`${api!.url}/orders`, postOrderRequest({ postalCode: 'N1 9GU', country: countryFor(n) }));
          const body = (await res.json()) as { workflowId?: string; error?: string };
          const postMs = performance.now() - t0;
          if (res.status !== 202 || !body.workflowId) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(body)}`);
          const state = (await client.workflow.getHandle(body.workflowId).result()) as CheckoutState;
          remember(body.workflowId);
          return { status: state.status, postMs };
        };

  return {
    runOne,
    async explain() {
      // The mean over the last sagas that ended (fetched after the window, so it costs the window nothing).
      const all = await Promise.all(recent.splice(0).map((id) => sagaBreakdown(client, id)));
      if (!all.length) return undefined;
      const mean = { ...all[0]!, workflowId: `mean of ${all.length}, e.g. ${all[0]!.workflowId}` };
      for (const k of Object.keys(mean) as (keyof Breakdown)[]) {
        if (typeof mean[k] === 'number')
          (mean as Record<string, unknown>)[k] = Math.round((all.reduce((s, b) => s + (b[k] as number), 0) / all.length) * 10) / 10;
      }
      return mean;
    },
    watched: () => ({ 'temporal dev server': opts.server.pid, ...(api ? { 'api (node)': api.pid } : {}) }),
    memory: { apiUrl: api?.url, cachedWorkflows: () => worker.getStatus().numCachedWorkflows, client },
    async stop() {
      await api?.stop();
      worker.shutdown();
      await running;
      await connection.close();
      await db.$disconnect();
    },
  };
}
