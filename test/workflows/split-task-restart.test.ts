import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { sleep } from '../../lib/backoff';
import { workflowTraceSinks } from '../../lib/tracing';
import { cancelUpdate } from '../../workflows';
import { commandsByTask } from '../support/history-tasks';
import { finalState } from '../support/run-scenario';
import { startWithQueryOnFirstTask } from '../support/query-on-first-task';
import { SCENARIOS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { bundleCheckout, startWorker } from '../support/workers';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';

// The shape that stranded 0.6% of the sagas of a 1,000-order chaos run: a
// status query reaches the saga with its first workflow task, createOrder's
// result arrives while the query is answered, and its marker is recorded one
// task before the workflow code sees the result. A worker that then has to
// replay the saga (a restart, a cache eviction) must take every decision as
// the first run did. See docs, "Why sagas got stuck".
let stack: TestStack;
let slowQueries: WorkflowBundle;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  slowQueries = await bundleCheckout({ interceptorModules: [require.resolve('./fixtures/slow-queries')] });
});
afterAll(() => stack?.stop());

describe('a saga whose local-activity result crossed a workflow task', () => {
  it('replays on a restarted worker: the customer cancels and the saga compensates', async () => {
    const sku = uniqueId('SKU');
    await stack.services.inventory.upsertProduct({ sku, name: 'Split task', price: 2500, stock: SCENARIO_STOCK });
    const orderId = uniqueId('ord');
    // The carrier never answers this address, so the saga waits there.
    const { handle, answered } = await startWithQueryOnFirstTask(stack, SCENARIOS['cancelled-by-customer'].input(orderId, sku));

    const first = await startWorker(stack, slowQueries);
    await answered;
    await untilStatus(handle, 'CREATING_SHIPMENT');
    const [task1, task2] = commandsByTask(await handle.fetchHistory());
    expect(task1).toContain('MARKER_RECORDED core_local_activity'); // createOrder's marker...
    expect(task2).toContain('MARKER_RECORDED core_local_activity'); // ...and what the code did with its result, one task later
    await first.stop();

    // A new worker has nothing cached: it rebuilds the saga from its history.
    const second = await startWorker(stack);
    try {
      const cancelled = handle.executeUpdate(cancelUpdate);
      await expect(Promise.race([cancelled, sleep(20_000).then(() => 'no answer in 20 s')])).resolves.toMatchObject({
        orderId,
      });
      expect(await finalState(handle)).toMatchObject({
        status: 'COMPENSATED',
        failure: { step: 'createShipment', reason: 'cancelled_by_customer' },
      });
    } finally {
      await second.stop();
    }
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, sinks: workflowTraceSinks(undefined) },
        await handle.fetchHistory(),
        handle.workflowId,
      ),
    ).resolves.toBeUndefined();
  });

  itLeavesTheStoresConsistent(() => stack.services);
});
