// A checkout worker in a process of its own, so that a test can SIGKILL it in
// the middle of a workflow task, as a crash would. Run by startWorkerProcess().
import { NativeConnection } from '@temporalio/worker';
import { createDb } from '../../lib/db';
import { createCheckoutWorker } from '../../worker';

async function main(): Promise<void> {
  const db = createDb(process.env.DATABASE_URL!, 4);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await createCheckoutWorker({
    connection,
    namespace: 'default',
    taskQueue: process.env.TEMPORAL_TASK_QUEUE!,
    db,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE! },
  });
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
