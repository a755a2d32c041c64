import type { WorkflowHandle } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { sleep } from '../../lib/backoff';
import { cancelUpdate, checkout } from '../../workflows';
import { commandsByTask } from '../support/history-tasks';
import { finalState } from '../support/run-scenario';
import { startWithQueryOnFirstTask } from '../support/query-on-first-task';
import { SCENARIOS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { bundleCheckout, expectReplays, startWorker, startWorkerProcess } from '../support/workers';
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
    await expectReplays(handle);
  });

  it('a worker that dies in the next task, then a cancel: the new worker replays and lets the step in flight finish', async () => {
    const sku = uniqueId('SKU');
    await stack.services.inventory.upsertProduct({ sku, name: 'Split task, crash', price: 2500, stock: SCENARIO_STOCK });
    const orderId = uniqueId('ord');
    const { handle, answered } = await startWithQueryOnFirstTask(stack, SCENARIOS['cancelled-by-customer'].input(orderId, sku));
    // The worker answers the query with the first task, gets the second at once, and dies in it.
    const doomed = startWorkerProcess(stack, slowQueries);
    await answered;
    doomed.kill();
    const [task1, ...later] = commandsByTask(await handle.fetchHistory());
    expect(task1).toContain('MARKER_RECORDED core_local_activity');
    expect(later).toEqual([]);

    // The cancel comes with the task the next worker gets after the timeout: the
    // saga must be replayed, and a local activity of the replay cancelled. The
    // SDK fails that task for good (nondeterminism, "Invalid transition in state
    // machine") unless the step is let finish.
    const cancelled = handle.executeUpdate(cancelUpdate);
    const next = await startWorker(stack);
    try {
      await expect(Promise.race([cancelled, sleep(30_000).then(() => 'no answer in 30 s')])).resolves.toMatchObject({ orderId });
      expect(await finalState(handle)).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
    } finally {
      await next.stop();
    }
  });

  it('stock reserved in a task that was lost is released when the order times out before the saga reserves again', async () => {
    const sku = uniqueId('SKU');
    await stack.services.inventory.upsertProduct({ sku, name: 'Lost task', price: 2500, stock: SCENARIO_STOCK });
    const orderId = uniqueId('ord');
    const input = SCENARIOS['happy-path'].input(orderId, sku);
    const { handle, answered } = await startWithQueryOnFirstTask(stack, { ...input, deadlines: { ...input.deadlines, orderTtlSeconds: 3 } });
    // The first task completes with the query's answer (and the order TTL's
    // timer) while createOrder is still being written; the worker then
    // finishes it, reserves the stock in the second task, and dies.
    const doomed = startWorkerProcess(stack, slowQueries, { slowCreateOrderMs: 3000, crashAfterReserving: true });
    await answered;
    await doomed.exited;
    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'HELD' });
    // ...and the history does not know: it records no step at all.
    expect(localActivitiesIn(await handle.fetchHistory())).toEqual([]);

    // The TTL runs out before any worker takes the saga up again.
    await sleep(4000);
    const next = await startWorker(stack);
    try {
      expect(await finalState(handle)).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'timed_out' } });
    } finally {
      await next.stop();
    }
    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'RELEASED' });
    expect(await stack.db.product.findUniqueOrThrow({ where: { sku } })).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('a cancel that comes with the first task stops the saga before it creates the order; its undos leave only fences', async () => {
    const sku = uniqueId('SKU');
    await stack.services.inventory.upsertProduct({ sku, name: 'Cancelled at once', price: 2500, stock: SCENARIO_STOCK });
    const orderId = uniqueId('ord');
    const handle = await stack.client.workflow.start(checkout, {
      workflowId: `order-${orderId}`,
      taskQueue: stack.taskQueue,
      args: [SCENARIOS['happy-path'].input(orderId, sku)],
    });
    // No worker yet: the update waits with the first task, as under load.
    const cancelled = handle.executeUpdate(cancelUpdate);
    await sleep(500);
    const worker = await startWorker(stack);
    try {
      await cancelled;
      expect(await finalState(handle)).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createOrder', reason: 'cancelled_by_customer' } });
    } finally {
      await worker.stop();
    }
    expect(await stack.services.orders.orderFor(orderId)).toBeNull();
    // The reservation's undo ran all the same (a lost task could have reserved): it left a fence, holding nothing.
    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'RELEASED', items: [] });
  });

  itLeavesTheStoresConsistent(() => stack.services);
});

/** The local activities a history records, by type. */
function localActivitiesIn(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): string[] {
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });
}
