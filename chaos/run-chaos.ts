import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { audit } from '../audit/audit';
import { sleep } from '../lib/backoff';
import type { Violation } from '../audit/invariants';
import { DEV_OPERATOR_TOKEN, loadConfig } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { createDb } from '../lib/db';
import { migrate } from '../scripts/db/migrate';
import { withScratchDatabase } from '../scripts/db/scratch';
import { seedCatalog } from '../scripts/db/seed';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { startNatsServer, type NatsServer } from '../scripts/nats-server';
import { sagaStreamNames } from '../services/choreography/saga-stream';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createServices } from '../services';
import { workflowIdFor } from '../workflows/workflow-id';
import { ChaosClient, describeAnswer, type ClientFailure, type RequestKind } from './chaos-client';
import { eachLimit } from '../lib/each-limit';
import { splitTasks, workflowTasks } from '../ops/saga-history';
import { ManagedProcess } from './managed-process';
import { LAST_UNITS_SKU, expectedEndings, planOrders, type Coordination, type CoordinationMix, type OrderKind, type PlannedOrder } from './order-mix';
import {
  currentBuildBundle,
  fetchHistories,
  replayHistories,
  sagaSeconds,
  workflowTaskFailures,
  type ReplayFailure,
  type TaskFailure,
} from './workflow-histories';
import { parseRequestLog } from './api-requests';
import { LATENCY_BOUNDS_MS, faultSpan, latencyReport, type LatencyReport } from './latency';
import { historySpan, recoveries, timelineSpan, type FaultKind, type FaultRecord, type FaultRecovery, type SagaSpan } from './recovery';
import { RollingDeploy, buildsOf, type BuildReport, type DeployRecord } from './rolling-deploy';
import { describeDeployment } from '../lib/worker-deployment';
import { cachedWorkflowBundle, retiredBuildIds, retiredBuildPath, workflowBuildId } from '../lib/workflow-bundle';
import { workflowInterceptorModules } from '../worker';
import { tracingConfigured } from '../lib/tracing';

export type ChaosOptions = {
  orders: number;
  /** How many worker processes run side by side on the task queue; each kill picks one of them. */
  workerProcesses: number;
  workerKills: number;
  apiRestarts: number;
  serverRestarts: number;
  /** The window in which orders are placed and faults injected. */
  loadSeconds: number;
  /** How long to wait, after the load, for every order to end. */
  settleSeconds: number;
  carrierFailureRate: number;
  seed: number;
  /** Who drives the orders' sagas: Temporal, the services' events (docs/choreography.md), or both, in blocks of ten. */
  coordination: CoordinationMix;
  /** Restarts of the run's own nats-server, which carries the choreographed sagas' events and every order's facts. */
  natsRestarts: number;
  /**
   * Builds of this tree's code rolled out during the load, after a start on the
   * last retired build, with a rollback after the first (chaos/rolling-deploy.ts);
   * each build runs `workerProcesses` workers. 0: one build, this tree's, all along.
   */
  deploys?: number;
  /**
   * Whether a route's p99 over its bound, outside the faults, fails the run
   * (default true). The bounded test only reports them: it is small, and runs
   * on a loaded CI machine.
   */
  enforceLatencyBounds?: boolean;
  log?: (line: string) => void;
};

export type ChaosReport = {
  seed: number;
  coordination: CoordinationMix;
  /** Endings by coordination, for a mixed run. */
  endingsBy: Record<Coordination, Record<string, number>>;
  /** Choreography events no consumer could read, kept in the dead-letter stream. */
  deadLetters: number;
  /** Orders the plan asked for; `orders` of them were placed (their POST accepted). */
  planned: number;
  orders: number;
  endings: Record<string, number>;
  unexpected: { orderId: string; kind: OrderKind; ending: string }[];
  faults: {
    workerProcesses: number;
    workerKills: number;
    /** Kills by worker process (index 0 is worker 1): which ones the seed picked. */
    workerKillsByProcess: number[];
    apiRestarts: number;
    serverRestarts: number;
    natsRestarts: number;
    workerRestarts: number;
    apiRestartsTotal: number;
    /** Faults that could not be injected (a restart that failed). */
    failed: { what: string; error: string }[];
    /** Every fault in the order it was injected, with its time since the run's start. */
    times: FaultRecord[];
  };
  /** Per route and per 10 s window, from the API's request log (api.log), and the client's view. */
  latency: LatencyReport;
  /** Per fault: how long until the routes were within their bounds again (a), and until every saga open at it had moved on (b). */
  recovery: FaultRecovery[];
  /** Attempts beyond the first, over every step of every ended order, whichever saga ran it. */
  activityRetries: number;
  requestRetries: number;
  /** Placed orders not seen ending in time, with what their last poll saw (a status, or the failed GET's answer). */
  stuck: { orderId: string; kind: OrderKind; lastSeen: string }[];
  lastUnitsCompleted: number;
  /** Requests the client gave up on. A failed `place` is an order never placed. */
  clientFailures: ClientFailure[];
  clientFailureCounts: Partial<Record<RequestKind, number>>;
  /** From the saga's start to its end, as its history records them; null if none ended. */
  slowestOrder: { orderId: string; kind: OrderKind; seconds: number } | null;
  /** Sagas whose history records a failed workflow task (timeouts from worker kills are not failures). */
  workflowTaskFailures: { orderId: string; kind: OrderKind; failures: TaskFailure[] }[];
  /**
   * Sagas in which a local activity's result crossed into the next workflow
   * task (docs/stuck-sagas.md): the shape that stranded sagas before patch
   * versions-first. A count above zero shows the run met it, and replayed it.
   */
  splitSagas: number;
  /** Every placed saga's history, replayed against the build it ran on. */
  replay: { histories: number; failed: ReplayFailure[] };
  /** With --deploys: each deploy and rollback, each build's sagas and drain, and what pinning protected. */
  deploys?: {
    steps: DeployRecord[];
    builds: BuildReport[];
    /** Histories of sagas started on the first (retired) build that the current code cannot replay: what pinning protected. */
    protectedByPinning: { histories: number; wouldFail: number };
  };
  /** Exceptions the run did not expect; caught so that the audit still runs. */
  errors: string[];
  violations: Violation[];
  logDir: string;
  seconds: number;
};

type Placed = {
  orderId: string;
  coordination: Coordination;
  /** What POST /orders answered: reading and cancelling the order need it. */
  secret: string;
  kind: OrderKind;
  /** The status the last poll saw, or the failed poll's answer. */
  lastSeen: string;
  final?: { status: string; reason?: string; retries: number };
  /** From the saga's start to its end, as its history records them; unset while it runs. */
  seconds?: number;
};

const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED', 'RESOLVED_MANUALLY']);
const POLL_INTERVAL_MS = 1000;

/**
 * Drives a mixed load through the real API while killing a worker (SIGKILL),
 * restarting the API and restarting the Temporal dev server (which keeps its
 * state in a file); then waits for every order to end, replays every saga's
 * history and audits the stores. Whatever goes wrong once the stack is up is
 * recorded in the report, never thrown: the run always ends with the audit.
 */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const random = mulberry32(opts.seed);
  const logDir = mkdtempSync(path.join(tmpdir(), 'checkout-chaos-'));
  const base = loadConfig();

  return withScratchDatabase(
    base.databaseUrl,
    async (databaseUrl) => {
      await migrate(databaseUrl, { log: () => undefined });
      await seedCatalog(databaseUrl);

      const temporalPort = await freePort();
      const dbFilename = path.join(logDir, 'temporal.db');
      // Its complaints while we kill things under it are expected: keep only its errors.
      const startServer = () => startDevServer({ port: temporalPort, dbFilename, serverLogLevel: 'error', log: (m) => log(`[temporal] ${m}`) });
      let server: DevServer = await startServer();
      // A nats-server of the run's own, on a fixed port so that its restarts find the clients where they were.
      const natsPort = await freePort();
      const startNats = () => startNatsServer({ storeDir: path.join(logDir, 'nats'), port: natsPort, logFile: path.join(logDir, 'nats.log') });
      let nats: NatsServer = await startNats();
      const apiPort = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: 'checkout-chaos',
        PORT: String(apiPort),
        CARRIER_FAILURE_RATE: String(opts.carrierFailureRate),
        // Short deadlines, so that a cancelled or stuck order shows within the run.
        SHIPPING_SLA_SECONDS: '60',
        ORDER_TTL_SECONDS: '120',
        RATE_LIMIT_PER_MINUTE: '1000000',
        // Any free ports: a running npm start holds the defaults.
        API_METRICS_PORT: '0',
        WORKER_METRICS_PORT: '0',
        TEMPORAL_METRICS_PORT: '0',
        // A stream of its own, so that another stack on the same NATS cannot take its facts.
        NATS_STREAM: `CHAOS_${randomBytes(4).toString('hex')}`,
        NATS_URL: nats.url,
        OPERATOR_TOKEN: DEV_OPERATOR_TOKEN,
        NODE_ENV: 'development',
        // A deployment of its own: the dev server is the run's, but a name that says whose it is costs nothing.
        DEPLOYMENT_NAME: 'checkout-chaos',
      };
      // Each worker a process of its own, restarted on its own, as N replicas
      // under a supervisor are; with one, the log keeps its old name.
      // With deploys, the builds' workers come and go (chaos/rolling-deploy.ts); a kill picks one of those running.
      const deploying = (opts.deploys ?? 0) > 0;
      const workers: ManagedProcess[] = deploying
        ? []
        : Array.from({ length: opts.workerProcesses }, (_, i) =>
            opts.workerProcesses === 1
              ? new ManagedProcess('worker', 'worker.ts', env, path.join(logDir, 'worker.log'))
              : new ManagedProcess(`worker ${i + 1}`, 'worker.ts', env, path.join(logDir, `worker-${i + 1}.log`)),
          );
      // The report reads the API's request log (one info line per request), whatever level the rest logs at
      // (under jest, the default is warn).
      const api = new ManagedProcess('api', 'api/server.ts', { ...env, LOG_LEVEL: requestLogLevel(env.LOG_LEVEL) }, path.join(logDir, 'api.log'));
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const db = createDb(databaseUrl, 4);
      const faults = {
        workerKills: 0,
        workerKillsByProcess: workers.map(() => 0),
        apiRestarts: 0,
        serverRestarts: 0,
        natsRestarts: 0,
        failed: [] as ChaosReport['faults']['failed'],
        times: [] as FaultRecord[],
      };
      const errors: string[] = [];
      let connection: Connection | undefined;
      // The deploys' control plane: one connection for the run, which finds the dev server again after each restart.
      const control = await Connection.connect({ address: server.address });
      const controlClient = new Client({ connection: control });
      const deploy = deploying
        ? new RollingDeploy({
            deploymentName: env.DEPLOYMENT_NAME!,
            startBuildId: startBuild(),
            currentBuildId: workflowBuildId(),
            deploys: opts.deploys!,
            workersPerBuild: opts.workerProcesses,
            env,
            logDir,
            runStartMs: started,
            client: () => controlClient,
            onWorker: (worker) => {
              workers.push(worker);
              faults.workerKillsByProcess.push(0);
            },
            log,
          })
        : undefined;
      // Each side of the run (placing, faults, polling, the histories) records
      // its own exception and lets the others finish: a rejection nobody is
      // awaiting yet would kill the process, and with it the audit.
      const guarded = (what: string, fn: () => Promise<void>) =>
        fn().catch((err) => {
          errors.push(`${what}: ${err instanceof Error ? err.stack : err}`);
          log(`${what} failed: ${err}`);
        });

      try {
        // Up to here, and until the API is healthy, a failure is a broken setup: it throws.
        // A deploy pipeline builds before it rolls out: bundle this tree's build now (the workers then find it in
        // .data/workflow-bundles), not in the first deploy, where webpack would take both cores from the load.
        if (deploy) await cachedWorkflowBundle(workflowInterceptorModules(tracingConfigured(env)));
        for (const worker of workers) worker.start();
        await deploy?.start();
        api.start();
        await until(() => healthy(apiUrl), 90_000, 'the API to become healthy');
        // New sagas go to the deployment's current build: until there is one, they would wait.
        await until(async () => Boolean((await describeDeployment(controlClient, env.DEPLOYMENT_NAME!).catch(() => null))?.current), 90_000, 'a current build');
        log(`stack up: API ${apiUrl}, Temporal ${server.address}, logs in ${logDir}`);
        // The worker's converter (TEMPORAL_PAYLOAD_KEY, if set, is in env): the replay must decode what it encoded.
        const converter = dataConverter(loadConfig(env));

        // --- load, faults and polling, side by side ----------------------------------
        const plan = planOrders(opts.orders, randomBytes(3).toString('hex'), opts.coordination);
        const loadMs = opts.loadSeconds * 1000;
        const at = (n: number) => Array.from({ length: n }, () => 0.1 * loadMs + random() * 0.7 * loadMs).sort((a, b) => a - b);
        // Which worker each kill takes comes from a generator of its own, so
        // that a seed with one worker still draws the fault times and the
        // cancels it always did.
        const pick = mulberry32(opts.seed + 1);
        const faultSchedule: { ms: number; kind: FaultKind; what: string; act: () => Promise<void> }[] = [
          ...at(opts.workerKills).map((ms) => {
            const draw = pick();
            // Drawn now, applied to the workers running then: with deploys, which ones those are changes.
            const victim = () => {
              const running = workers.filter((w) => w.running);
              return running[Math.floor(draw * running.length)] ?? workers[0]!;
            };
            return {
              ms,
              kind: 'worker-kill' as const,
              what: deploying ? 'kill a worker' : `kill the ${victim().name}`,
              act: () => {
                const worker = victim();
                return worker.kill().then(() => {
                  faults.workerKills++;
                  faults.workerKillsByProcess[workers.indexOf(worker)]!++;
                });
              },
            };
          }),
          ...at(opts.apiRestarts).map((ms) => ({
            ms,
            kind: 'api-restart' as const,
            what: 'restart the API',
            act: () => api.restartGracefully().then(() => void faults.apiRestarts++),
          })),
          ...at(opts.serverRestarts).map((ms) => ({
            ms,
            kind: 'server-restart' as const,
            what: 'restart the Temporal dev server',
            act: async () => {
              await server.teardown();
              server = await startServer();
              faults.serverRestarts++;
            },
          })),
          ...at(opts.natsRestarts).map((ms) => ({
            ms,
            kind: 'nats-restart' as const,
            what: 'restart NATS',
            act: async () => {
              await nats.stop();
              nats = await startNats();
              faults.natsRestarts++;
            },
          })),
        ].sort((a, b) => a.ms - b.ms);
        // The deploys, spread over the load window between its faults' first and last tenth.
        const deploySteps = deploy?.steps() ?? [];
        const rolling = guarded('deploys', async () => {
          const t0 = Date.now();
          for (const [i, step] of deploySteps.entries()) {
            const due = loadMs * (0.12 + (0.66 * i) / Math.max(deploySteps.length - 1, 1)) - (Date.now() - t0);
            // A step that ran late (a dev server restart in the middle) still leaves the next one 10 s of the build it made current.
            await sleep(i === 0 ? due : Math.max(due, 10_000));
            await deploy!.run(step);
          }
        });
        const faulting = guarded('fault injection', async () => {
          const t0 = Date.now();
          for (const fault of faultSchedule) {
            await sleep(fault.ms - (Date.now() - t0));
            const atMs = Date.now();
            log(`fault at ${((atMs - started) / 1000).toFixed(1)} s: ${fault.what}`);
            const record: FaultRecord = { kind: fault.kind, what: fault.what, atSeconds: (atMs - started) / 1000, seconds: 0 };
            // A fault that cannot be injected is reported; the run goes on with the next.
            await fault.act().catch((err) => {
              faults.failed.push({ what: fault.what, error: String(err) });
              record.error = String(err);
              log(`could not ${fault.what}: ${err}`);
            });
            record.seconds = (Date.now() - atMs) / 1000;
            faults.times.push(record);
          }
        });

        const client = new ChaosClient(apiUrl);
        const placed: Placed[] = [];
        const placeOne = async (order: PlannedOrder, delayMs: number) => {
          await sleep(delayMs);
          const res = await client.send('place', 'POST', '/orders', {
            body: order.body,
            headers: { 'Idempotency-Key': order.idempotencyKey },
            accept: (status) => status === 202,
          });
          // Given up on, and recorded by the client: the order was never placed.
          if (!res) return;
          const { orderId, secret } = (await res.json()) as { orderId: string; secret: string };
          const asOwner = { Authorization: `Bearer ${secret}` };
          placed.push({ orderId, secret, kind: order.kind, coordination: order.coordination, lastSeen: 'PENDING' });
          if (order.kind === 'cancelled') {
            await sleep(1000 + random() * 2000);
            const cancel = await client.send('cancel', 'POST', `/orders/${orderId}/cancel`, { headers: asOwner });
            if (cancel && cancel.status !== 202) log(`cancel of ${orderId} answered ${await describeAnswer(cancel)}`);
          }
        };

        // The poller waits for the load to end: a GET per open order per second
        // would be a load of its own on the worker (each is a query). A GET that
        // fails is asked again next round; an order never seen ending is stuck.
        // How long each saga took comes from its history, not from here.
        const poll = async (order: Placed) => {
          const answer = await client.once('GET', `/orders/${order.orderId}`, { headers: { Authorization: `Bearer ${order.secret}` } });
          if (typeof answer === 'string' || answer.status !== 200) {
            order.lastSeen = await describeAnswer(answer);
            return;
          }
          const state = (await answer.json().catch(() => undefined)) as
            | { status: string; failure?: { reason: string }; steps: { attempts: number }[] }
            | undefined;
          order.lastSeen = state?.status ?? '200 with a body that is not an order';
          if (!state) return;
          if (TERMINAL.has(state.status)) {
            const retries = state.steps.reduce((n, s) => n + Math.max(s.attempts - 1, 0), 0);
            order.final = { status: state.status, reason: state.failure?.reason, retries };
          }
        };
        let loadOver = false;
        let settleBy = Infinity;
        const polling = guarded('polling', async () => {
          for (;;) {
            const open = placed.filter((o) => !o.final);
            if ((loadOver && open.length === 0) || Date.now() > settleBy) return;
            if (loadOver) await eachLimit(open, 4, poll);
            await sleep(POLL_INTERVAL_MS);
          }
        });

        // Spread over the load window; the last-units orders go out together.
        await Promise.all(
          plan.map((order, i) =>
            guarded(`placing order ${order.idempotencyKey}`, () =>
              placeOne(order, order.kind === 'last-units' ? 0.5 * loadMs : (i / plan.length) * 0.8 * loadMs),
            ),
          ),
        );
        await faulting;
        await rolling;
        // --- wait, with a bound, for every order to end ------------------------------
        settleBy = Date.now() + opts.settleSeconds * 1000;
        loadOver = true;
        await polling;

        // --- histories: failed workflow tasks, and a replay of each -------------------
        // One client for the histories and the audit, to the dev server as it is now.
        connection = await Connection.connect({ address: server.address });
        const temporal = { client: new Client({ connection, dataConverter: converter }), taskQueue: env.TEMPORAL_TASK_QUEUE! };
        const replay: ChaosReport['replay'] = { histories: 0, failed: [] };
        let deployReport: ChaosReport['deploys'];
        const sagaSpans: SagaSpan[] = [];
        const taskFailures: ChaosReport['workflowTaskFailures'] = [];
        let splitSagas = 0;
        await guarded('reading and replaying the histories', async () => {
          // Only orchestrated orders have a workflow, and a history to replay.
          const byWorkflowId = new Map(placed.filter((o) => o.coordination === 'orchestration').map((o) => [workflowIdFor(o.orderId), o]));
          const { histories, unread } = await fetchHistories(temporal.client, [...byWorkflowId.keys()]);
          for (const { workflowId, history } of histories) {
            const failures = workflowTaskFailures(history);
            if (splitTasks(workflowTasks(history as temporal.api.history.v1.IHistory)).length > 0) splitSagas++;
            const order = byWorkflowId.get(workflowId)!;
            if (failures.length > 0) taskFailures.push({ orderId: order.orderId, kind: order.kind, failures });
            order.seconds = sagaSeconds(history) ?? undefined;
            const span = historySpan(history as temporal.api.history.v1.IHistory);
            if (span) sagaSpans.push({ orderId: order.orderId, kind: order.kind, coordination: order.coordination, ...span });
          }
          replay.histories = histories.length;
          replay.failed = [...unread];
          // Each against the build it ran on: the run's retired build's, or this tree's code.
          const retired = new Map<string, typeof histories>();
          const current: typeof histories = [];
          for (const h of histories) {
            const { first } = buildsOf(h.history as temporal.api.history.v1.IHistory);
            const file = first ? retiredBuildPath(first) : undefined;
            if (!file) current.push(h);
            else if (retired.has(file)) retired.get(file)!.push(h);
            else retired.set(file, [h]);
          }
          log(`replaying ${current.length} histories against the current workflow code`);
          const currentBuild = await currentBuildBundle(log);
          replay.failed.push(...(await replayHistories(current, converter, currentBuild)));
          for (const [file, some] of retired) {
            log(`replaying ${some.length} histories against the retired build ${path.basename(file, '.js')}`);
            replay.failed.push(...(await replayHistories(some, converter, { codePath: file })));
          }
          if (deploy) {
            await deploy.stop();
            // What the first deploy would have done without pinning: the current code taking the retired build's sagas.
            const onRetired = [...retired.values()].flat();
            const wouldFail = (await replayHistories(onRetired, converter, currentBuild)).length;
            deployReport = {
              steps: deploy.records,
              builds: deploy.report(histories),
              protectedByPinning: { histories: onRetired.length, wouldFail },
            };
          }
        });

        // --- notifications, then audit and report ------------------------------------
        // Each ended order's fact goes outbox → NATS → inbox; wait for them, then
        // audit with no grace: every ended order must have exactly one by now.
        const ended = placed.filter((o) => o.final);
        const services = createServices(db);
        await until(
          async () => new Set((await services.notifications.allNotifications()).map((n) => n.orderId)).size >= ended.length,
          60_000,
          'a notification for every ended order',
        ).catch((err) => log(String(err)));
        const { violations } = await audit(services, { maxOpenSeconds: 120 + 120, notificationGraceSeconds: 0 }, temporal);
        // A choreographed order's saga lasts from its first event to the one that closed it, as its timeline
        // shows (its TTL timer still fires, into the timeline, after it closed). The timeline also shows when it
        // moved on after each fault, ended or not.
        for (const order of placed.filter((o) => o.coordination === 'choreography')) {
          const timeline = await services.orders.timeline(order.orderId);
          const span = timelineSpan(timeline);
          if (span) sagaSpans.push({ orderId: order.orderId, kind: order.kind, coordination: order.coordination, ...span });
          if (!order.final) continue;
          const closing = [...timeline].reverse().find((e) => e.type === 'InventoryCommitted' || e.type === 'InventoryReleased');
          if (closing) order.seconds = (Date.parse(closing.occurredAt) - Date.parse(timeline[0]!.occurredAt)) / 1000;
        }
        // --- latency per route and window, from the API's own request log; recovery per fault ---
        const requestLog = parseRequestLog(readFileSync(path.join(logDir, 'api.log'), 'utf8'));
        const latency = latencyReport({
          ...requestLog,
          sent: client.sent,
          runStartMs: started,
          spans: faults.times.map((f) => faultSpan(started + f.atSeconds * 1000, started + (f.atSeconds + f.seconds) * 1000)),
          bounds: LATENCY_BOUNDS_MS,
          enforced: opts.enforceLatencyBounds ?? true,
        });
        const recovery = recoveries(faults.times, {
          runStartMs: started,
          requests: requestLog.requests,
          sent: client.sent,
          bounds: LATENCY_BOUNDS_MS,
          sagas: sagaSpans,
        });
        const endings: Record<string, number> = {};
        const endingsBy: ChaosReport['endingsBy'] = { orchestration: {}, choreography: {} };
        const unexpected: ChaosReport['unexpected'] = [];
        let lastUnitsCompleted = 0;
        for (const { orderId, kind, coordination, final } of ended) {
          const ending = final!.reason ? `${final!.status} ${final!.reason}` : final!.status;
          endings[ending] = (endings[ending] ?? 0) + 1;
          endingsBy[coordination][ending] = (endingsBy[coordination][ending] ?? 0) + 1;
          if (!expectedEndings(kind, opts.carrierFailureRate).includes(ending)) unexpected.push({ orderId, kind, ending });
          if (kind === 'last-units' && final!.status === 'COMPLETED') lastUnitsCompleted++;
        }
        const slowest = placed.reduce<Placed | undefined>((a, o) => ((o.seconds ?? 0) > (a?.seconds ?? 0) ? o : a), undefined);
        const clientFailureCounts: ChaosReport['clientFailureCounts'] = {};
        for (const f of client.failures) clientFailureCounts[f.request] = (clientFailureCounts[f.request] ?? 0) + 1;
        const stock = await services.inventory.stockLevels();
        log(`${LAST_UNITS_SKU} after the run: ${JSON.stringify(stock.find((p) => p.sku === LAST_UNITS_SKU))}`);
        const deadLetters = await countDeadLetters(nats.url, sagaStreamNames(env.NATS_STREAM!).deadLetterStream).catch((err) => {
          errors.push(`counting dead letters: ${err}`);
          return -1;
        });
        const report: ChaosReport = {
          seed: opts.seed,
          coordination: opts.coordination,
          endingsBy,
          deadLetters,
          planned: plan.length,
          orders: placed.length,
          endings,
          unexpected,
          faults: {
            ...faults,
            workerProcesses: workers.length,
            workerRestarts: workers.reduce((n, w) => n + w.restarts, 0),
            apiRestartsTotal: api.restarts,
          },
          latency,
          recovery,
          activityRetries: ended.reduce((n, o) => n + o.final!.retries, 0),
          requestRetries: client.retries,
          stuck: placed.filter((o) => !o.final).map(({ orderId, kind, lastSeen }) => ({ orderId, kind, lastSeen })),
          lastUnitsCompleted,
          clientFailures: client.failures,
          clientFailureCounts,
          slowestOrder: slowest?.seconds ? { orderId: slowest.orderId, kind: slowest.kind, seconds: Math.round(slowest.seconds * 10) / 10 } : null,
          workflowTaskFailures: taskFailures,
          splitSagas,
          replay,
          ...(deployReport && { deploys: deployReport }),
          errors,
          violations,
          logDir,
          seconds: Math.round((Date.now() - started) / 1000),
        };
        writeFileSync(path.join(logDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
        return report;
      } finally {
        await deploy?.stop();
        await Promise.all([...workers.map((w) => w.stop()), api.stop()]);
        await connection?.close();
        await control.close();
        await db.$disconnect();
        await server.teardown();
        await nats.stop();
      }
    },
    'chaos',
  );
}

/** The build a run with deploys starts on: the last build retired, the one this tree's code replaced. */
function startBuild(): string {
  const retired = retiredBuildIds();
  if (retired.length !== 1) throw new Error(`--deploys starts on the retired build, and builds/ holds ${retired.length}: ${retired.join(', ')}`);
  return retired[0]!;
}

/** Messages in the dead-letter stream; 0 when it was never created (no choreographed order ran). */
async function countDeadLetters(natsUrl: string, stream: string): Promise<number> {
  const nc = await connect({ servers: natsUrl, timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(stream)).state.messages;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return 0;
    throw err;
  } finally {
    await nc.close();
  }
}

/** The API's log level in the run: info, so that every request's line is written, unless LOG_LEVEL asks for more. */
function requestLogLevel(level: string | undefined): string {
  return level === 'debug' || level === 'trace' ? level : 'info';
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

/**
 * A seeded PRNG (mulberry32), so that a run's fault times can be reproduced
 * with --seed. Eight lines: not worth a dependency.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
