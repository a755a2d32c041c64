import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createDb, type Db } from '../../lib/db';
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
  stop(): Promise<void>;
};

/**
 * A test file's slice of the real system: its own database (a clone of the
 * migrated template), its own task queue on the shared dev server, and a
 * worker with the real activities.
 */
export async function startTestStack(opts: ServiceSettings & { worker?: boolean; tracing?: Tracing } = {}): Promise<TestStack> {
  const address = process.env.TEMPORAL_ADDRESS!;
  const database = await cloneTemplate();
  const db = createDb(database.url, 5);
  const services = createServices(db, opts);
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });

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
      settings: opts,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      metrics,
      tracing: opts.tracing,
    });
    running = worker.run();
  }

  return {
    db,
    services,
    client,
    taskQueue,
    dbUrl: database.url,
    metrics,
    async stop() {
      worker?.shutdown();
      await running;
      await nativeConnection?.close();
      await connection.close();
      await db.$disconnect();
      await dropDatabase(database.name);
    },
  };
}
