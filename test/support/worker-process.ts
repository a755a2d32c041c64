// A checkout worker in a process of its own, so that a test can SIGKILL it in
// the middle of a workflow task, as a crash would. Run by startWorkerProcess().
import { NativeConnection } from '@temporalio/worker';
import { createDb } from '../../lib/db';
import { createServices } from '../../services';
import { createCheckoutWorker } from '../../worker';

async function main(): Promise<void> {
  const db = createDb(process.env.DATABASE_URL!, 4);
  const services = createServices(db);
  if (process.env.SLOW_CREATE_ORDER_MS) {
    // A slow database: the order takes this long to be written.
    const create = services.orders.create.bind(services.orders);
    services.orders.create = async (...args) => {
      await new Promise((r) => setTimeout(r, Number(process.env.SLOW_CREATE_ORDER_MS)));
      return create(...args);
    };
  }
  if (process.env.CRASH_AFTER_RESERVING) {
    // The crash a test asks for: the reservation is committed, the workflow task that ran it never completes.
    const reserve = services.inventory.reserve.bind(services.inventory);
    services.inventory.reserve = async (...args) => {
      await reserve(...args);
      process.kill(process.pid, 'SIGKILL');
      throw new Error('unreachable');
    };
  }
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await createCheckoutWorker({
    connection,
    namespace: 'default',
    taskQueue: process.env.TEMPORAL_TASK_QUEUE!,
    db,
    services,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE! },
  });
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
