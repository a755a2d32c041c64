import type { WorkflowBundle } from '@temporalio/worker';
import { cancelUpdate, checkout, resolveUpdate, statusQuery } from '../../workflows';
import type { Deadlines } from '../../workflows/checkout-types';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { activityEnded, deliveredTogether, HeldWorkflowTasks, isType, sendUpdate, untilEvent } from '../support/held-workflow-tasks';
import { commandsByTask } from '../support/history-tasks';
import { startWithQueryOnFirstTask } from '../support/query-on-first-task';
import { finalState } from '../support/run-scenario';
import { ADDRESS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { bundleCheckout, expectReplays } from '../support/workers';

// The interleavings that a loaded or restarted worker produces by chance,
// forced one by one: the workflow tasks are held back (no workflow worker
// polls) until the chosen events are in the history, so that one workflow
// task, and one activation, brings them together. Each test checks that they
// did come together, the business outcome, and that the history replays.
// See docs/saga-interleavings.md.
let stack: TestStack;
let tasks: HeldWorkflowTasks;
let slowQueries: WorkflowBundle;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  slowQueries = await bundleCheckout({ interceptorModules: [require.resolve('./fixtures/slow-queries')] });
});
beforeEach(async () => {
  tasks = await new HeldWorkflowTasks(stack).start();
});
afterEach(() => tasks.stop());
afterAll(() => stack?.stop());

const ledger = async (orderId: string) => (await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind);

describe('one activation, two events', () => {
  it("the shipment's result with the order TTL's timer: the shipped order completes", async () => {
    const { orderId, handle } = await startOrder({ orderTtlSeconds: 8 });
    const shipment = await tasks.heldWithoutWorkflowWorker('createShipment');
    shipment.release();
    await untilEvent(handle, activityEnded('createShipment'));
    const { event: ttl } = await untilEvent(handle, isType('EVENT_TYPE_TIMER_FIRED'));
    await tasks.resumeWorkflowTasks();

    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
    const { events } = await untilEvent(handle, isType('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED'));
    expect(deliveredTogether(events, ttl).filter((e) => activityEnded('createShipment')(e, events))).toHaveLength(1);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    expect(await stack.services.shipping.shipmentFor(orderId)).toMatchObject({ status: 'CREATED' });
    await expectReplays(handle);
  });

  it("the shipment's result with the customer's cancel: the cancel is refused as too late, the order completes", async () => {
    const { orderId, handle } = await startOrder();
    const shipment = await tasks.heldWithoutWorkflowWorker('createShipment');
    shipment.release();
    const { event: shipped } = await untilEvent(handle, activityEnded('createShipment'));
    const cancel = await sendUpdate(handle, cancelUpdate);
    await tasks.resumeWorkflowTasks();

    await expect(cancel.outcome).rejects.toMatchObject({ cause: { type: 'OrderShipped' } });
    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
    // The cancel was taken up by the first task after the shipment's result, which brought both.
    const { events } = await untilEvent(handle, isType('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED'));
    const accepted = events.find(isType('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED'))!;
    const between = events.filter((e) => Number(e.eventId) > Number(shipped.eventId) && Number(e.eventId) < Number(accepted.eventId));
    expect(between.filter(isType('EVENT_TYPE_WORKFLOW_TASK_COMPLETED'))).toHaveLength(1);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    await expectReplays(handle);
  });

  it("the shipment's result with the payment hold's renewal timer: the renewal is dropped, the order completes", async () => {
    // The hold is renewed when half of it is left: 5 s after the authorization.
    const { orderId, handle } = await startOrder({ paymentHoldSeconds: 10 });
    const shipment = await tasks.heldWithoutWorkflowWorker('createShipment');
    const { event: renewal } = await untilEvent(handle, isType('EVENT_TYPE_TIMER_FIRED'));
    shipment.release();
    await untilEvent(handle, activityEnded('createShipment'));
    await tasks.resumeWorkflowTasks();

    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
    const { events } = await untilEvent(handle, isType('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED'));
    expect(deliveredTogether(events, renewal).filter((e) => activityEnded('createShipment')(e, events))).toHaveLength(1);
    // The shipment's result came first in the task, so the renewal it overtook was never scheduled.
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'renewPaymentHold')).toEqual([]);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    await expectReplays(handle);
  });

  it("an undo's result with an operator's decision: the decision is refused while the saga compensates, and taken once it waits", async () => {
    const { orderId, handle } = await startOrder({}, { token: 'tok_refund_fails', address: { country: 'XX' } });
    await tasks.resumeWorkflowTasks();
    await untilStatus(handle, 'FAILED_NEEDS_MANUAL');
    const undo = tasks.hold('reversePayment');
    const retried = handle.executeUpdate(resolveUpdate, { args: [{ action: 'retry', note: 'provider says try again' }] });
    await undo.reached;
    await tasks.holdWorkflowTasks();
    undo.release();
    // The retry's refusal: the second time the provider refuses the reversal.
    const refused = activityEnded('reversePayment', 'EVENT_TYPE_ACTIVITY_TASK_FAILED');
    await untilEvent(handle, (e, events) => events.filter((x) => refused(x, events))[1] === e);
    const decision = await sendUpdate(handle, resolveUpdate, { action: 'mark-resolved', note: 'refunded by hand' });
    await tasks.resumeWorkflowTasks();

    // Validated before the undo's result is applied: the saga is still compensating, and says so.
    // (Had the decision come in a later task, the saga would have been waiting, and taken it.)
    await expect(decision.outcome).rejects.toMatchObject({ cause: { message: expect.stringMatching(/is COMPENSATING/) } });
    await expect(retried).resolves.toMatchObject({ status: 'FAILED_NEEDS_MANUAL' });
    await handle.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'refunded by hand' }] });
    expect(await finalState(handle)).toMatchObject({
      status: 'RESOLVED_MANUALLY',
      resolutions: [
        { action: 'retry', note: 'provider says try again' },
        { action: 'mark-resolved', note: 'refunded by hand' },
      ],
    });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
    await expectReplays(handle);
  });

  it("a local activity's result with a query, then a worker restart: the new worker replays the split task and the order completes", async () => {
    const sku = await lamp();
    const orderId = uniqueId('ord');
    const payment = tasks.hold('authorizePayment');
    const { handle, answered } = await startWithQueryOnFirstTask(stack, input(orderId, sku));
    await tasks.resumeWorkflowTasks(slowQueries);
    await answered;
    await payment.reached;
    const [task1, task2] = commandsByTask(await handle.fetchHistory());
    expect(task1).toContain('MARKER_RECORDED core_local_activity'); // createOrder's marker...
    expect(task2).toContain('MARKER_RECORDED core_local_activity'); // ...and what the code did with its result, one task later
    await tasks.holdWorkflowTasks();
    payment.release();
    await untilEvent(handle, activityEnded('authorizePayment'));
    await tasks.resumeWorkflowTasks();

    // A query first: the new worker must rebuild the saga from the split history to answer it.
    expect(await handle.query(statusQuery)).toMatchObject({ orderId });
    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    await expectReplays(handle);
  });
});

describe('a cancel between the shipment and the capture', () => {
  it('is refused: the order has shipped', async () => {
    const { orderId, handle } = await startOrder();
    const capture = tasks.hold('capturePayment');
    await tasks.resumeWorkflowTasks();
    await capture.reached;
    await expect(handle.executeUpdate(cancelUpdate)).rejects.toMatchObject({
      cause: { message: `Order ${orderId} has shipped and can no longer be cancelled` },
    });
    capture.release();
    expect(await finalState(handle)).toMatchObject({ status: 'COMPLETED' });
    // A refused update leaves no event.
    const { events } = await untilEvent(handle, isType('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED'));
    expect(events.filter(isType('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED'))).toEqual([]);
  });
});

async function lamp(): Promise<string> {
  const sku = uniqueId('SKU');
  await stack.services.inventory.upsertProduct({ sku, name: 'Lamp', price: 2500, stock: SCENARIO_STOCK });
  return sku;
}

function input(orderId: string, sku: string, deadlines: Partial<Deadlines> = {}, opts: { token?: string; address?: Partial<typeof ADDRESS> } = {}) {
  return {
    orderId,
    customerId: 'cust_1',
    items: [{ sku, quantity: 1 }],
    payment: { token: opts.token ?? 'tok_visa' },
    shippingAddress: { ...ADDRESS, ...opts.address },
    deadlines: { orderTtlSeconds: 60, shippingSlaSeconds: 30, paymentHoldSeconds: 60, ...deadlines },
  };
}

async function startOrder(deadlines: Partial<Deadlines> = {}, opts: { token?: string; address?: Partial<typeof ADDRESS> } = {}) {
  const orderId = uniqueId('ord');
  const handle = await stack.client.workflow.start(checkout, {
    workflowId: `order-${orderId}`,
    taskQueue: stack.taskQueue,
    args: [input(orderId, await lamp(), deadlines, opts)],
  });
  return { orderId, handle };
}

itLeavesTheStoresConsistent(() => stack.services);
