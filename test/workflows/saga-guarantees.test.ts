import { MockActivityEnvironment } from '@temporalio/testing';
import { createCheckoutActivities } from '../../activities/checkout-activities';
import { cancelUpdate, checkout, resolveUpdate } from '../../workflows';
import { finalState, runScenario } from '../support/run-scenario';
import { ADDRESS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';

// Each guarantee of the saga, proven on the real dev server with the real
// services. Each test fails if the mechanism it names is taken away.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const ledger = async (orderId: string) => (await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind);
const stock = (sku: string) => stack.db.product.findUniqueOrThrow({ where: { sku } });
const step = (state: { steps: { name: string; status: string; attempts: number }[] }, name: string) => state.steps.find((s) => s.name === name)!;

describe('saga guarantees', () => {
  it('no oversell: N concurrent orders for the last K units give exactly K completed orders', async () => {
    const [N, K] = [6, 2];
    const sku = uniqueId('LAST');
    await stack.services.inventory.upsertProduct({ sku, name: 'Last units', price: 1000, stock: K });
    const handles = await Promise.all(
      Array.from({ length: N }, () => {
        const orderId = uniqueId('ord');
        return stack.client.workflow.start(checkout, {
          workflowId: `order-${orderId}`,
          taskQueue: stack.taskQueue,
          args: [{ orderId, customerId: 'cust_1', items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' }, shippingAddress: ADDRESS }],
        });
      }),
    );
    const states = await Promise.all(handles.map(finalState));

    expect(states.filter((s) => s.status === 'COMPLETED')).toHaveLength(K);
    const others = states.filter((s) => s.status !== 'COMPLETED');
    expect(others.map((s) => [s.status, s.failure?.reason])).toEqual(Array(N - K).fill(['COMPENSATED', 'out_of_stock']));
    expect(await stock(sku)).toMatchObject({ available: 0, reserved: 0, sold: K });
  });

  it('unknown outcome: a payment committed whose answer was lost is looked up, not authorized twice', async () => {
    const { orderId, state } = await runScenario(stack, 'lost-payment-response');

    expect(state.status).toBe('COMPLETED');
    expect(step(state, 'authorizePayment')).toMatchObject({ status: 'completed', attempts: 2 });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    expect(await stack.db.payment.count({ where: { orderId } })).toBe(1);
  });

  it('shipping SLA: a carrier that keeps failing is retried until the SLA, then the saga compensates', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'shipping-timeout');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'shipping_timeout' } });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    expect(await stack.services.shipping.shipmentFor(orderId)).toMatchObject({ status: 'CANCELLED', trackingNumber: null });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('order TTL: a saga still open at its deadline is fenced and compensated', async () => {
    const { orderId, state } = await runScenario(stack, 'order-timeout');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'timed_out' } });
    expect(await stack.services.orders.orderFor(orderId)).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'timed_out' } });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
  });

  it('payment hold: an authorization that would expire before capture is renewed', async () => {
    const { orderId, state } = await runScenario(stack, 'payment-hold-renewed');

    expect(state.status).toBe('COMPLETED');
    expect(step(state, 'createShipment').attempts).toBeGreaterThan(1);
    const kinds = await ledger(orderId);
    expect(kinds[0]).toBe('AUTHORIZE');
    expect(kinds).toContain('RENEW');
    expect(kinds.at(-1)).toBe('CAPTURE');
  });

  it('cancellation: twice has the effect of once; the in-flight shipment step is compensated', async () => {
    const { orderId, sku, handle } = await startLampOrder('tok_visa', { postalCode: '00000' });
    await untilStatus(handle, 'CREATING_SHIPMENT');
    // Both are accepted when they reach the same workflow task; otherwise the second finds the
    // rollback begun and is refused (the API answers that refusal as a repeat of the first).
    const answers = await Promise.allSettled([handle.executeUpdate(cancelUpdate), handle.executeUpdate(cancelUpdate)]);
    expect(answers.some((a) => a.status === 'fulfilled')).toBe(true);
    for (const a of answers) {
      if (a.status === 'rejected') expect(a.reason).toMatchObject({ cause: { message: expect.stringMatching(/already being compensated/) } });
    }
    const state = await finalState(handle);

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'cancelled_by_customer' } });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    expect(await stack.services.shipping.shipmentFor(orderId)).toMatchObject({ status: 'CANCELLED' });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('a cancel sent while the saga rolls back is refused, and leaves no event in its history', async () => {
    const { handle } = await startLampOrder('tok_refund_fails', { country: 'XX' });
    // Rolled back as far as it can, waiting for an operator: the failure is known, the undos have run.
    await untilStatus(handle, 'FAILED_NEEDS_MANUAL');
    await expect(handle.executeUpdate(cancelUpdate)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/already being compensated/) } });
    const { events } = await handle.fetchHistory();
    expect(events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
    await handle.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'refunded by hand' }] });
    await handle.result();
  });

  it('fencing: forward steps delivered after the compensation leave no reservation, charge or shipment', async () => {
    const { orderId, sku } = await runScenario(stack, 'cancelled-by-customer');
    const late = createCheckoutActivities(stack.services);
    const key = (s: string) => `order-${orderId}:${s}`;
    const deliverLate = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A) => new MockActivityEnvironment({ attempt: 1 }).run(fn, ...args);

    await expect(deliverLate(late.reserveInventory, { orderId, key: key('reserveInventory'), items: [{ sku, quantity: 1 }] })).rejects.toMatchObject({
      type: 'fenced',
    });
    await expect(
      deliverLate(late.authorizePayment, { orderId, key: key('authorizePayment'), token: 'tok_visa', amount: 2500, currency: 'USD', holdSeconds: 60 }),
    ).rejects.toMatchObject({ type: 'fenced' });
    await expect(deliverLate(late.createShipment, { orderId, key: key('createShipment'), address: ADDRESS })).rejects.toMatchObject({ type: 'fenced' });

    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'RELEASED' });
    expect(await stack.services.payments.paymentFor(orderId)).toMatchObject({ status: 'VOIDED' });
    expect(await stack.services.shipping.shipmentFor(orderId)).toMatchObject({ status: 'CANCELLED', trackingNumber: null });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('a compensation refused for good waits for an operator, who can retry or close the case', async () => {
    const { orderId, state } = await runScenario(stack, 'refund-fails-manual-resolution');

    expect(state).toMatchObject({
      status: 'RESOLVED_MANUALLY',
      failure: { step: 'createShipment', reason: 'address_rejected' },
      failedCompensations: [{ step: 'authorizePayment', reason: 'reversal_rejected' }],
      resolutions: [
        { action: 'retry', note: 'provider says try again' },
        { action: 'mark-resolved', note: 'refunded by bank transfer, ticket 42' },
      ],
    });
    expect(step(state, 'authorizePayment').status).toBe('compensation_failed');
    expect(await stack.services.orders.orderFor(orderId)).toMatchObject({ status: 'RESOLVED_MANUALLY' });
    // The other compensations ran: the stock is back, the (refused) payment is untouched.
    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'RELEASED' });
    expect(await stack.services.payments.paymentFor(orderId)).toMatchObject({ status: 'AUTHORIZED' });
  });
});

/** A saga for one lamp of a SKU of its own, paid with `token`, shipped to ADDRESS changed by `address`. */
async function startLampOrder(token: string, address: Partial<typeof ADDRESS>) {
  const orderId = uniqueId('ord');
  const sku = uniqueId('SKU');
  await stack.services.inventory.upsertProduct({ sku, name: 'Lamp', price: 2500, stock: SCENARIO_STOCK });
  const handle = await stack.client.workflow.start(checkout, {
    workflowId: `order-${orderId}`,
    taskQueue: stack.taskQueue,
    args: [{ orderId, customerId: 'cust_1', items: [{ sku, quantity: 1 }], payment: { token }, shippingAddress: { ...ADDRESS, ...address } }],
  });
  return { orderId, sku, handle };
}

itLeavesTheStoresConsistent(() => stack.services);
