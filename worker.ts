import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { observeActivities } from './activities/activity-interceptors';
import { createCheckoutActivities } from './activities/checkout-activities';
import { workerBuild } from './lib/workflow-bundle';
import { Client, Connection } from '@temporalio/client';
import { makeCurrentOnceKnown, type BuildRef } from './lib/worker-deployment';
import { ConfigError, loadConfig, type Config } from './lib/config';
import { dataConverter } from './lib/data-converter';
import { createDb, type Db } from './lib/db';
import { logger, temporalLogger } from './lib/logger';
import { createWorkerMetrics, type WorkerMetrics } from './lib/metrics';
import { serveMetrics } from './lib/metrics-server';
import { startTracing, traceActivities, workflowTraceSinks, type Tracing } from './lib/tracing';
import { createServices, type Services } from './services';
import { startReservationSweeper } from './services/inventory/reservation-sweeper';
import { startMessaging } from './services/messaging';
import { sagaStreamNames } from './services/choreography/saga-stream';
import { orderStreamNames } from './services/order/order-stream';
import { DEFAULT_DEADLINES } from './workflows/checkout-types';

// Workflow interceptors run inside the workflow sandbox, so they are compiled
// into the workflow bundle. Whoever bundles (this worker at start, the tests'
// global setup that bundles once for every worker, npm run ops, the chaos run)
// must pass this list. It names workflow modules, so it lives with the worker
// that wires them in rather than in lib/, which knows nothing of the app.
const LOG_INTERCEPTORS = require.resolve('./workflows/log-interceptors');
// Workflow run and schedule-activity spans; they leave the sandbox through the
// `exporter` sink, which the worker must therefore always register (lib/tracing.ts).
const OTEL_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Every workflow interceptor the app has: what a bundle shared by tests and tools holds. */
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [LOG_INTERCEPTORS, OTEL_INTERCEPTORS];

/**
 * What this worker bundles: the span interceptors only when traces go
 * somewhere. Without an exporter their spans are dropped at the sink, yet each
 * is still built inside the sandbox on every activation (bench/README.md,
 * "Levers"). They add headers, never commands, so histories replay either way.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? WORKFLOW_INTERCEPTOR_MODULES : [LOG_INTERCEPTORS];
}

/** The worker options a deployment tunes; the rest are the checkout's own. */
export type CheckoutWorkerTuning = Partial<
  Pick<
    WorkerOptions,
    | 'maxCachedWorkflows'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentLocalActivityExecutions'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxConcurrentActivityTaskPolls'
    | 'stickyQueueScheduleToStartTimeout'
  >
>;

/** The tuning `npm run worker` runs with: the SDK's defaults but for the cache and the sticky queue's timeout. */
export function deployedTuning(config: Pick<Config, 'worker'>): CheckoutWorkerTuning {
  return {
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    stickyQueueScheduleToStartTimeout: config.worker.stickyQueueTimeoutSeconds * 1000,
  };
}

type CheckoutWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** The services the activities call; built over db with the default settings if omitted. */
  services?: Services;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** From dataConverter(config) in lib/data-converter.ts: encrypts payloads when a key is configured. */
  dataConverter?: DataConverter;
  /** Where the worker's application metrics go; a registry of its own by default. */
  metrics?: WorkerMetrics;
  /** Where workflow spans are exported; without it they are dropped (activity spans follow the global provider). */
  tracing?: Tracing;
  /** Slots, pollers, cache and sticky queue (MAX_CACHED_WORKFLOWS, STICKY_QUEUE_TIMEOUT_SECONDS, the bench's settings); the SDK's defaults otherwise. */
  tuning?: CheckoutWorkerTuning;
  /**
   * The deployment version this worker is (Worker Versioning, docs/deploys.md): it then takes only the
   * workflow tasks of sagas pinned to this build, and new ones while the build is current. Unversioned
   * without it, as the tests' in-process workers are: any worker of the task queue takes any saga.
   */
  deployment?: BuildRef;
};

/** A worker that runs the checkout workflow and the services' activities. */
export function createCheckoutWorker(opts: CheckoutWorkerOptions): Promise<Worker> {
  const services = opts.services ?? createServices(opts.db);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createCheckoutActivities(services),
    dataConverter: opts.dataConverter,
    interceptors: {
      // A prebuilt bundle has them compiled in already; naming them again only earns a warning.
      ...(opts.workflowBundle ? {} : { workflowModules: workflowInterceptorModules(opts.tracing !== undefined) }),
      // Tracing first: it is outermost, so the metrics and log interceptor runs inside the activity's span.
      activity: [traceActivities, observeActivities(opts.metrics ?? createWorkerMetrics())],
    },
    sinks: workflowTraceSinks(opts.tracing),
    ...(opts.deployment && {
      // Each checkout runs to its end on the build that started it: a new build takes only new checkouts,
      // so a change to the workflow needs no patched() branch for the sagas in flight. Set here, not with
      // setWorkflowOptions() in the workflow: the SDK refuses that on an unversioned worker (the tests').
      workerDeploymentOptions: { version: opts.deployment, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' as const },
    }),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
    ...opts.tuning,
  });
}

async function main(tracing: Tracing | undefined): Promise<void> {
  const config = loadConfig();
  const { host, workerPort, temporalCorePort } = config.metrics;
  // Before anything else touches the Runtime: it can be installed once per process.
  // The SDK core's own metrics (task latencies, slots, polls, sticky cache) are
  // served by the core itself, on a port of their own, in Prometheus format.
  Runtime.install({
    logger: temporalLogger(logger),
    ...(temporalCorePort > 0 && { telemetryOptions: { metrics: { prometheus: { bindAddress: `${host}:${temporalCorePort}` } } } }),
  });
  const db = createDb(config.databaseUrl, config.dbPoolSize);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const metrics = createWorkerMetrics();
  const services = createServices(db, config);
  metrics.setOutboxBacklogSource(() => services.orders.unpublishedFacts());
  const metricsServer = await serveMetrics(metrics.registry, workerPort, host);
  const build = await workerBuild(config.worker.buildId, workflowInterceptorModules(tracing !== undefined));
  const deployment = { deploymentName: config.worker.deploymentName, buildId: build.buildId };
  const worker = await createCheckoutWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    services,
    dataConverter: dataConverter(config),
    metrics,
    tracing,
    tuning: deployedTuning(config),
    workflowBundle: build.workflowBundle,
    deployment,
  });
  // The sweeper and the messaging below run in every worker process, however
  // many there are (WORKER_PROCESSES, compose replicas, several `npm run
  // worker`), rather than in an elected one: each is safe to run N times at
  // once, and a single one would stop with its process. The sweeper locks each
  // hold FOR UPDATE SKIP LOCKED and re-checks that it is still HELD, so a hold
  // is released once; the relay locks its batch FOR UPDATE SKIP LOCKED, so
  // relays share the outbox, and a row published twice (a relay killed before
  // it marked it) is dropped by JetStream's Nats-Msg-Id, or else by the
  // consumer's inbox; the consumer is one durable JetStream consumer that
  // hands each fact to one of its subscribers. docs/operations.md, "Scaling
  // out workers".
  const sweeper = startReservationSweeper(services.inventory, {
    everyMs: Math.min(services.inventory.reservationTtlSeconds * 250, 30_000),
    log: (msg) => logger.info({ component: 'reservation-sweeper' }, msg),
  });
  // In the worker rather than a process of its own: whatever closes orders runs
  // here, so here is where their facts should leave from; and it starts with
  // `npm start` and in Docker without another service to keep alive.
  const messaging = startMessaging({
    db,
    natsUrl: config.natsUrl,
    names: orderStreamNames(config.natsStream),
    log: (msg) => logger.info(msg),
    choreography: {
      services,
      databaseUrl: config.databaseUrl,
      names: sagaStreamNames(config.natsStream),
      stalledAfterSeconds: config.sagaStalledAfterSeconds ?? { ...DEFAULT_DEADLINES, ...config.deadlines }.shippingSlaSeconds + 120,
      count: (consumer, outcome) => metrics.choreographyEvents.inc({ consumer, outcome }),
    },
  });
  if (config.payloadKeys) logger.info({ keyId: config.payloadKeys.current.id }, 'Payloads are encrypted');
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
      metrics: metricsServer.url,
      ...(temporalCorePort > 0 && { temporalCoreMetrics: `http://${host}:${temporalCorePort}/metrics` }),
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
      stickyQueueTimeoutSeconds: config.worker.stickyQueueTimeoutSeconds,
      deployment: config.worker.deploymentName,
      buildId: build.buildId,
      ...(build.retired && { retiredBuild: true }),
    },
    'Worker polling',
  );
  // run() resolves after SIGINT/SIGTERM, once in-flight tasks have finished.
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
  // New sagas start on this build from now on (PROMOTE_BUILD_ON_START); sagas in flight stay on their own build.
  if (config.worker.promoteOnStart) {
    const stopped = () => worker.getState() !== 'RUNNING';
    const promoted = await makeCurrentOnceKnown(client, deployment, { identity: `worker ${process.pid}`, timeoutMs: Infinity, stopped });
    if (promoted) logger.info(deployment, 'Build is current: new sagas start on it');
  }
  await running;
  await client.connection.close();
  await messaging.stop();
  await sweeper.stop();
  metricsServer.close();
  await connection.close();
  await db.$disconnect();
  await tracing?.shutdown();
}

if (require.main === module) {
  main(startTracing({ serviceName: 'checkout-worker' })).catch((err) => {
    // A configuration mistake is the operator's to fix: its message names the variable, and a stack adds nothing.
    if (err instanceof ConfigError) logger.fatal(err.message);
    else logger.fatal({ err }, 'Worker failed');
    process.exit(1);
  });
}
