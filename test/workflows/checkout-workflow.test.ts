import { statusQuery } from '../../workflows';
import { runScenario } from '../support/run-scenario';
import { SCENARIO_STOCK } from '../support/scenarios';
import { startTestStack, type TestStack } from '../support/test-stack';

// The saga on a real Temporal dev server, with the real activities and services
// over a real PostgreSQL database. Nothing is stubbed.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const stock = (sku: string) => stack.db.product.findUniqueOrThrow({ where: { sku } });
const stores = async (orderId: string) => ({
  order: await stack.services.orders.orderFor(orderId),
  payment: await stack.services.payments.paymentFor(orderId),
  reservation: await stack.services.inventory.reservationFor(orderId),
  shipment: await stack.services.shipping.shipmentFor(orderId),
});
const stepStates = (state: { steps: { name: string; status: string }[] }) =>
  Object.fromEntries(state.steps.map((s) => [s.name, s.status]));

describe('checkout workflow', () => {
  it('happy path: every step completes and each store agrees', async () => {
    const { orderId, sku, state, handle } = await runScenario(stack, 'happy-path');

    expect(state).toMatchObject({ status: 'COMPLETED', total: 2500, trackingNumber: expect.stringMatching(/^TRK/) });
    expect(state.steps.every((s) => s.status === 'completed' && s.attempts === 1)).toBe(true);
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPLETED', total: 2500 },
      payment: { status: 'CHARGED', amount: 2500 },
      reservation: { status: 'COMMITTED' },
      shipment: { status: 'CREATED', trackingNumber: state.trackingNumber },
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK - 1, reserved: 0, sold: 1 });
    // The status query answers for a closed saga too.
    expect(await handle.query(statusQuery)).toEqual(state);
  });

  it('declined card: the reservation is released and the order ends COMPENSATED', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'card-declined');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'chargePayment', reason: 'card_declined' } });
    expect(stepStates(state)).toEqual({
      createOrder: 'compensated',
      reserveInventory: 'compensated',
      chargePayment: 'failed',
      createShipment: 'pending',
      completeOrder: 'pending',
    });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED', failure: { step: 'chargePayment', reason: 'card_declined' } },
      payment: { status: 'DECLINED' },
      reservation: { status: 'RELEASED' },
      shipment: null,
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
  });

  it('out of stock: nothing is charged and the order ends COMPENSATED', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'out-of-stock');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'reserveInventory', reason: 'out_of_stock' } });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED' },
      payment: null,
      reservation: { status: 'RELEASED', items: [] },
      shipment: null,
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('shipping rejected: the payment is refunded and the stock restored', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'shipping-rejected');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'address_rejected' } });
    expect(stepStates(state)).toMatchObject({ reserveInventory: 'compensated', chargePayment: 'compensated', createShipment: 'failed' });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED' },
      payment: { status: 'REFUNDED', amount: 2500 },
      reservation: { status: 'RELEASED' },
      shipment: { status: 'CANCELLED', trackingNumber: null },
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
  });

  it('flaky payment: retried with backoff until it succeeds, attempts recorded', async () => {
    const { orderId, state } = await runScenario(stack, 'flaky-payment');

    expect(state.status).toBe('COMPLETED');
    expect(state.steps.find((s) => s.name === 'chargePayment')).toEqual({ name: 'chargePayment', status: 'completed', attempts: 3 });
    expect(await stack.db.payment.count({ where: { orderId } })).toBe(1);
    expect(await stack.db.providerCall.findUnique({ where: { idempotencyKey: `order-${orderId}:chargePayment` } })).toMatchObject({
      calls: 3,
    });
  });
});
