import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { observeActivity } from './activities/activity-interceptors';
import { createCheckoutActivities } from './activities/checkout-activities';
import { loadConfig } from './lib/config';
import { createDb, type Db } from './lib/db';
import { logger, temporalLogger } from './lib/logger';
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
      activity: [observeActivity],
    },
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
  });
}

async function main(): Promise<void> {
  // Before anything else touches the Runtime: it can be installed once per process.
  Runtime.install({ logger: temporalLogger(logger) });
  const config = loadConfig();
  const db = createDb(config.databaseUrl, config.dbPoolSize);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createCheckoutWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    settings: config,
  });
  const sweeper = startReservationSweeper(createServices(db, config).inventory, {
    everyMs: Math.min(config.reservationTtlSeconds * 250, 30_000),
    log: (msg) => logger.info({ component: 'reservation-sweeper' }, msg),
  });
  logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'Worker polling');
  // run() resolves after SIGINT/SIGTERM, once in-flight tasks have finished.
  await worker.run();
  await sweeper.stop();
  await connection.close();
  await db.$disconnect();
}

if (require.main === module) {
  main().catch((err) => {
    logger.fatal({ err }, 'Worker failed');
    process.exit(1);
  });
}
