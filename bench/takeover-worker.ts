// One checkout worker for `npm run bench:takeover` and `npm run bench:versioning`,
// as its own process so that the bench can kill it with SIGKILL, as a crash or
// an OOM kill would, and read its CPU time. It is the deployed worker
// (createCheckoutWorker, the cached workflow bundle or the bundle it is handed)
// with the tuning it is handed; the parent talks to it over IPC: `ready` once
// it polls, `cpu` on request.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDb } from '../lib/db';
import { cachedWorkflowBundle } from '../lib/workflow-bundle';
import { createServices } from '../services';
import { createCheckoutWorker, workflowInterceptorModules, type CheckoutWorkerTuning } from '../worker';

export type TakeoverWorkerSettings = {
  address: string;
  databaseUrl: string;
  taskQueue: string;
  tuning: CheckoutWorkerTuning;
  /** A build's bundle on disk (bench:versioning compares two builds); the tree's cached bundle, without span interceptors, by default. */
  workflowBundle?: { codePath: string };
};
export type FromTakeoverWorker = { type: 'ready' } | { type: 'cpu'; ms: number };
export type ToTakeoverWorker = { type: 'cpu' };

async function main(settings: TakeoverWorkerSettings): Promise<void> {
  // The parked sagas' carrier fails by design, a warning per retry: only errors are news here.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const db = createDb(settings.databaseUrl, 10);
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await createCheckoutWorker({
    connection,
    namespace: 'default',
    taskQueue: settings.taskQueue,
    db,
    services: createServices(db),
    workflowBundle: settings.workflowBundle ?? (await cachedWorkflowBundle(workflowInterceptorModules(false))),
    tuning: settings.tuning,
  });
  const send = (message: FromTakeoverWorker) => process.send!(message);
  process.on('message', (message: ToTakeoverWorker) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', ms: (user + system) / 1000 });
    }
  });
  process.on('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  send({ type: 'ready' });
  await running;
  await connection.close();
  await db.$disconnect();
  process.disconnect();
}

main(JSON.parse(process.argv[2]!) as TakeoverWorkerSettings).catch((err) => {
  console.error(err);
  process.exit(1);
});
