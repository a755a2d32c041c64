import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { cancelUpdate, checkout } from '../../workflows';
import { finalState } from '../support/run-scenario';
import { SCENARIOS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { startWorkerProcess } from '../support/workers';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';

// Several worker processes on one task queue (WORKER_PROCESSES, compose
// replicas): each takes its share of the sagas, and when one dies, the others
// finish what it held.
let stack: TestStack;
let sku: string;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  sku = uniqueId('SKU');
  await stack.services.inventory.upsertProduct({ sku, name: 'Two workers', price: 2500, stock: SCENARIO_STOCK * 2 });
});
afterAll(() => stack?.stop());

/** Sagas started at once; with two workers polling, all of them going to one would be a 1 in 500 chance. */
const SAGAS = 10;

it('two worker processes both take sagas, and the survivor finishes those of the one that is killed', async () => {
  const bundle = { code: readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8') };
  const workers = [startWorkerProcess(stack, bundle), startWorkerProcess(stack, bundle)];
  try {
    await untilPollers(2);

    // They wait at the carrier, which never answers this address, until cancelled.
    const handles = await Promise.all(
      Array.from({ length: SAGAS }, async () => {
        const orderId = uniqueId('ord');
        const input = SCENARIOS['cancelled-by-customer'].input(orderId, sku);
        return stack.client.workflow.start(checkout, {
          workflowId: `order-${orderId}`,
          taskQueue: stack.taskQueue,
          args: [{ ...input, deadlines: { ...input.deadlines, shippingSlaSeconds: 300 } }],
        });
      }),
    );
    await Promise.all(handles.map((h) => untilStatus(h, 'CREATING_SHIPMENT', 40_000)));
    const before = await Promise.all(handles.map(identities));
    expect(new Set(before.flat()).size).toBe(2);

    workers[0]!.kill();
    await workers[0]!.exited;
    // Each cancel needs a workflow task: the dead worker's sagas get theirs
    // once its sticky queue times out and the task goes to the task queue.
    await Promise.all(handles.map((h) => h.executeUpdate(cancelUpdate)));
    for (const handle of handles) {
      expect(await finalState(handle)).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
    }

    // Every workflow task after the kill was the survivor's, and it finished
    // sagas that the other held (their last task before the kill was the other's).
    const after = await Promise.all(handles.map(identities));
    const survivors = new Set(after.flatMap((ids, i) => ids.slice(before[i]!.length)));
    expect(survivors.size).toBe(1);
    const [survivor] = survivors;
    expect(before.filter((ids) => ids.at(-1) !== survivor).length).toBeGreaterThan(0);

    // And new work goes on: an order placed now completes.
    const orderId = uniqueId('ord');
    const handle = await stack.client.workflow.start(checkout, {
      workflowId: `order-${orderId}`,
      taskQueue: stack.taskQueue,
      args: [SCENARIOS['happy-path'].input(orderId, sku)],
    });
    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
  } finally {
    for (const worker of workers) {
      try {
        worker.kill();
      } catch {
        // Gone already (ESRCH): the one the test killed.
      }
    }
    await Promise.all(workers.map((w) => w.exited));
  }
});

itLeavesTheStoresConsistent(() => stack.services);

/** Waits until `n` workers (identities) poll the stack's workflow task queue. */
async function untilPollers(n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { pollers } = await stack.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: stack.taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    if (new Set(pollers?.map((p) => p.identity)).size >= n) return;
    if (Date.now() > deadline) throw new Error(`${n} workers did not poll within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The workers that completed the saga's workflow tasks, in history order. */
async function identities(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).flatMap((e) => {
    const identity = e.workflowTaskCompletedEventAttributes?.identity;
    return identity ? [identity] : [];
  });
}
