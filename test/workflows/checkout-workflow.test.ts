import { statusQuery } from '../../workflows';
import { runScenario } from '../support/run-scenario';
import { SCENARIO_STOCK } from '../support/scenarios';
import { startTestStack, type TestStack } from '../support/test-stack';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';

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
const ledger = async (orderId: string) => (await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind);
const stepStates = (state: { steps: { name: string; status: string }[] }) => Object.fromEntries(state.steps.map((s) => [s.name, s.status]));

describe('checkout workflow', () => {
  it('happy path: authorize, ship, capture, complete; every store agrees', async () => {
    const { orderId, sku, state, handle } = await runScenario(stack, 'happy-path');

    expect(state).toMatchObject({ status: 'COMPLETED', total: 2500, trackingNumber: expect.stringMatching(/^TRK/) });
    expect(state.steps.every((s) => s.status === 'completed' && s.attempts === 1)).toBe(true);
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPLETED', total: 2500 },
      payment: { status: 'CAPTURED', amount: 2500, currency: 'USD' },
      reservation: { status: 'COMMITTED' },
      shipment: { status: 'CREATED', trackingNumber: state.trackingNumber },
    });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK - 1, reserved: 0, sold: 1 });
    // The status query answers for a closed saga too.
    expect(await handle.query(statusQuery)).toEqual(state);
  });

  it('declined card: the reservation is released and the order ends COMPENSATED', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'card-declined');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'authorizePayment', reason: 'card_declined' } });
    expect(stepStates(state)).toMatchObject({
      createOrder: 'compensated',
      reserveInventory: 'compensated',
      authorizePayment: 'failed',
      createShipment: 'pending',
      completeOrder: 'pending',
    });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED', failure: { step: 'authorizePayment', reason: 'card_declined' } },
      payment: { status: 'DECLINED' },
      reservation: { status: 'RELEASED' },
      shipment: null,
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
  });

  it('fraud suspected: rejected before any stock is reserved or card touched', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'fraud-suspected');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'checkFraud', reason: 'fraud_suspected' } });
    expect(stepStates(state)).toMatchObject({ createOrder: 'compensated', checkFraud: 'failed', reserveInventory: 'pending' });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED', failure: { step: 'checkFraud', reason: 'fraud_suspected' } },
      payment: null,
      // Nothing was held: the undo that runs for every compensated order left its tombstone.
      reservation: { status: 'RELEASED', items: [] },
      shipment: null,
    });
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0 });
  });

  it('out of stock: nothing is authorized and the order ends COMPENSATED', async () => {
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

  it('shipping rejected: the authorization is voided (the mildest remedy) and the stock restored', async () => {
    const { orderId, sku, state } = await runScenario(stack, 'shipping-rejected');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'address_rejected' } });
    expect(stepStates(state)).toMatchObject({ reserveInventory: 'compensated', authorizePayment: 'compensated', createShipment: 'failed' });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED' },
      payment: { status: 'VOIDED', amount: 2500 },
      reservation: { status: 'RELEASED' },
      shipment: { status: 'CANCELLED', trackingNumber: null },
    });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
  });

  it('flaky payment: retried with backoff until it succeeds, attempts recorded', async () => {
    const { orderId, state } = await runScenario(stack, 'flaky-payment');

    expect(state.status).toBe('COMPLETED');
    expect(state.steps.find((s) => s.name === 'authorizePayment')).toEqual({ name: 'authorizePayment', status: 'completed', attempts: 3 });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('cancelled run: the carrier step is cancelled, the undos run regardless, and the order ends COMPENSATED', async () => {
    const { orderId, sku, state, handle } = await runScenario(stack, 'cancelled-run');

    expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'cancelled' } });
    expect(stepStates(state)).toEqual({
      createOrder: 'compensated',
      checkFraud: 'completed',
      reserveInventory: 'compensated',
      authorizePayment: 'compensated',
      createShipment: 'failed',
      capturePayment: 'pending',
      completeOrder: 'pending',
    });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'cancelled' } },
      payment: { status: 'VOIDED', amount: 2500 },
      reservation: { status: 'RELEASED' },
      shipment: { status: 'CANCELLED', trackingNumber: null },
    });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
    // The run answered its cancellation by rolling back, and then returned: Temporal shows it Completed.
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  it('payment provider down: the retries run out, the saga still compensates, then the run fails', async () => {
    const { orderId, sku, state, handle } = await runScenario(stack, 'payment-provider-down');

    expect(state).toMatchObject({ status: 'FAILED', failure: { step: 'authorizePayment', reason: 'retries_exhausted' } });
    expect(stepStates(state)).toEqual({
      createOrder: 'compensated',
      checkFraud: 'completed',
      reserveInventory: 'compensated',
      authorizePayment: 'failed',
      createShipment: 'pending',
      capturePayment: 'pending',
      completeOrder: 'pending',
    });
    // Each of the forward step's eight attempts reached the provider.
    expect(state.steps.find((s) => s.name === 'authorizePayment')).toEqual({ name: 'authorizePayment', status: 'failed', attempts: 8 });
    expect(await stores(orderId)).toMatchObject({
      order: { status: 'FAILED', failure: { step: 'authorizePayment', reason: 'retries_exhausted' } },
      payment: { status: 'VOIDED' },
      reservation: { status: 'RELEASED' },
      shipment: null,
    });
    expect(await ledger(orderId)).toEqual([]);
    expect(await stock(sku)).toMatchObject({ available: SCENARIO_STOCK, reserved: 0, sold: 0 });
    expect(await stack.db.providerCall.findUnique({ where: { idempotencyKey: `order-${orderId}:authorizePayment` } })).toMatchObject({ calls: 8 });
    // Temporal's own verdict, as its UI shows it: the run failed.
    expect((await handle.describe()).status.name).toBe('FAILED');
  }, 120_000);
});

itLeavesTheStoresConsistent(() => stack.services);
