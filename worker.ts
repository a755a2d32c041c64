import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCheckoutActivities } from './activities/checkout-activities';
import { loadConfig } from './lib/config';
import { dataConverter } from './lib/data-converter';
import { createDb, type Db } from './lib/db';
import { startMessaging } from './lib/messaging';
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
  /** From dataConverter(config) in lib/data-converter.ts: encrypts payloads when a key is configured. */
  dataConverter?: DataConverter;
};

/** A worker that runs the checkout workflow and the services' activities. */
export function createCheckoutWorker(opts: CheckoutWorkerOptions): Promise<Worker> {
  const services = createServices(opts.db, opts.settings);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createCheckoutActivities(services),
    dataConverter: opts.dataConverter,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, config.dbPoolSize);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createCheckoutWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    settings: config,
    dataConverter: dataConverter(config),
  });
  const sweeper = startReservationSweeper(createServices(db, config).inventory, {
    everyMs: Math.min(config.reservationTtlSeconds * 250, 30_000),
    log: (msg) => console.log(msg),
  });
  // In the worker rather than a process of its own: whatever closes orders runs
  // here, so here is where their facts should leave from; and it starts with
  // `npm start` and in Docker without another service to keep alive.
  const messaging = startMessaging({
    db,
    natsUrl: config.natsUrl,
    names: { stream: config.natsStream, subjectPrefix: config.natsStream.toLowerCase() },
    log: (msg) => console.log(msg),
  });
  console.log(`Worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
  if (config.payloadKeys) console.log(`Payloads are encrypted with key ${config.payloadKeys.current.id}`);
  // run() resolves after SIGINT/SIGTERM, once in-flight tasks have finished.
  await worker.run();
  await messaging.stop();
  await sweeper.stop();
  await connection.close();
  await db.$disconnect();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
