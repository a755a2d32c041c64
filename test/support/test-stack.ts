import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from '../../lib/config';
import { dataConverter as configuredDataConverter } from '../../lib/data-converter';
import { createDb, type Db } from '../../lib/db';
import { startMessaging, type Messaging } from '../../services/messaging';
import { sagaStreamNames, type SagaStreamNames } from '../../services/choreography/saga-stream';
import { createWorkerMetrics, type WorkerMetrics } from '../../lib/metrics';
import type { Tracing } from '../../lib/tracing';
import { createServices, type ServiceSettings, type Services } from '../../services';
import { createCheckoutWorker } from '../../worker';
import { cloneTemplate, dropDatabase } from './databases';

export type TestStack = {
  db: Db;
  services: Services;
  client: Client;
  taskQueue: string;
  dbUrl: string;
  /** The worker's application metrics (its registry is what the worker's /metrics serves). */
  metrics: WorkerMetrics;
  /** With `choreography`: the streams its events and dead letters go to. */
  sagaNames?: SagaStreamNames;
  stop(): Promise<void>;
};

/**
 * A test file's slice of the real system: its own database (a clone of the
 * migrated template), its own task queue on the shared dev server, and a
 * worker with the real activities; with `messaging`, the worker's outbox relay
 * and notification consumer too, on a stream of its own on the run's nats-server.
 */
export async function startTestStack(
  opts: ServiceSettings & {
    worker?: boolean;
    messaging?: boolean;
    /** With messaging: the choreographed checkout's reactions, relay and sweeper too (services/choreography/). */
    choreography?: { stalledAfterSeconds?: number };
    tracing?: Tracing;
    /** For the client and the worker; by default the app's, from the environment (TEMPORAL_PAYLOAD_KEY encrypts). */
    dataConverter?: DataConverter;
  } = {},
): Promise<TestStack> {
  const address = process.env.TEMPORAL_ADDRESS!;
  const dataConverter = opts.dataConverter ?? configuredDataConverter(loadConfig());
  const database = await cloneTemplate();
  const db = createDb(database.url, 5);
  const services = createServices(db, opts);
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter });

  const metrics = createWorkerMetrics();
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (opts.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createCheckoutWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      db,
      services,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      dataConverter,
      metrics,
      tracing: opts.tracing,
    });
    running = worker.run();
  }
  let messaging: Messaging | undefined;
  const tag = randomBytes(4).toString('hex');
  const sagaNames = opts.choreography ? sagaStreamNames(`ORDERS_${tag}`) : undefined;
  if (opts.messaging || opts.choreography) {
    messaging = startMessaging({
      db,
      natsUrl: process.env.NATS_URL!,
      names: { stream: `ORDERS_${tag}`, subjectPrefix: `t${tag}.orders` },
      log: (m) => process.stderr.write(`[messaging] ${m}\n`),
      ...(opts.choreography && {
        choreography: {
          services,
          databaseUrl: database.url,
          names: sagaNames!,
          stalledAfterSeconds: opts.choreography.stalledAfterSeconds ?? 600,
          count: (consumer, outcome) => metrics.choreographyEvents.inc({ consumer, outcome }),
        },
      }),
    });
    await messaging.ready;
  }

  return {
    db,
    services,
    client,
    taskQueue,
    dbUrl: database.url,
    metrics,
    sagaNames,
    async stop() {
      worker?.shutdown();
      await running;
      await messaging?.stop();
      await nativeConnection?.close();
      await connection.close();
      await db.$disconnect();
      await dropDatabase(database.name);
    },
  };
}
