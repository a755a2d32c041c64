import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { observeActivities } from './activities/activity-interceptors';
import { createCheckoutActivities } from './activities/checkout-activities';
import { loadConfig } from './lib/config';
import { createDb, type Db } from './lib/db';
import { logger, temporalLogger } from './lib/logger';
import { createWorkerMetrics, type WorkerMetrics } from './lib/metrics';
import { serveMetrics } from './lib/metrics-server';
import { startTracing, traceActivities, workflowTraceSinks, type Tracing } from './lib/tracing';
import { WORKFLOW_INTERCEPTOR_MODULES } from './lib/workflow-interceptors';
import { createServices, type ServiceSettings } from './services';
import { startReservationSweeper } from './services/inventory/reservation-sweeper';

type CheckoutWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  settings?: ServiceSettings;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Where the worker's application metrics go; a registry of its own by default. */
  metrics?: WorkerMetrics;
  /** Where workflow spans are exported; without it they are dropped (activity spans follow the global provider). */
  tracing?: Tracing;
};

/** A worker that runs the checkout workflow and the services' activities. */
export function createCheckoutWorker(opts: CheckoutWorkerOptions): Promise<Worker> {
  const services = createServices(opts.db, opts.settings);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createCheckoutActivities(services),
    interceptors: {
      // A prebuilt bundle has them compiled in already; naming them again only earns a warning.
      ...(opts.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
      // Tracing first: it is outermost, so the metrics and log interceptor runs inside the activity's span.
      activity: [traceActivities, observeActivities(opts.metrics ?? createWorkerMetrics())],
    },
    sinks: workflowTraceSinks(opts.tracing),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
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
  // TODO(outbox): orders.outbox is being added on another branch. Once it is here, register its
  // backlog, e.g. metrics.setOutboxBacklogSource(() => db.outboxMessage.count({ where: { publishedAt: null } })).
  const metricsServer = await serveMetrics(metrics.registry, workerPort, host);
  const worker = await createCheckoutWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    settings: config,
    metrics,
    tracing,
  });
  const sweeper = startReservationSweeper(createServices(db, config).inventory, {
    everyMs: Math.min(config.reservationTtlSeconds * 250, 30_000),
    log: (msg) => logger.info({ component: 'reservation-sweeper' }, msg),
  });
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
      metrics: metricsServer.url,
      ...(temporalCorePort > 0 && { temporalCoreMetrics: `http://${host}:${temporalCorePort}/metrics` }),
    },
    'Worker polling',
  );
  // run() resolves after SIGINT/SIGTERM, once in-flight tasks have finished.
  await worker.run();
  await sweeper.stop();
  metricsServer.close();
  await connection.close();
  await db.$disconnect();
  await tracing?.shutdown();
}

if (require.main === module) {
  main(startTracing({ serviceName: 'checkout-worker' })).catch((err) => {
    logger.fatal({ err }, 'Worker failed');
    process.exit(1);
  });
}
