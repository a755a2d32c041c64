import { ChoreographyClient } from '../../api/choreography-client';
import { FORWARD_ATTEMPTS } from '../../services/choreography/step-outcome';
import { SLOW_FAILURES } from '../../services/shipping/shipping-service';
import { DEFAULT_DEADLINES, STEPS, type Deadlines } from '../../workflows/checkout-types';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// README's scenarios, each triggered as a user would, for orders whose saga is
// choreographed: the services react to each other's events over NATS
// JetStream, with no workflow. A real database, a real nats-server, the API.
let stack: TestStack;
const apis: TestApi[] = [];
const asOperator = { authorization: 'Bearer test-operator-token' };

beforeAll(async () => {
  stack = await startTestStack({ worker: false, choreography: {} });
});
afterAll(async () => {
  for (const api of apis) api.close();
  await stack?.stop();
});

/** The API, configured with these deadlines (ORDER_TTL_SECONDS and the others). */
function apiWith(deadlines: Partial<Deadlines> = {}): TestApi {
  const api = startTestApi(stack, { choreographies: new ChoreographyClient(stack.services, { ...DEFAULT_DEADLINES, ...deadlines }) });
  apis.push(api);
  return api;
}

type Order = {
  orderId: string;
  status: string;
  steps: { name: string; status: string; attempts: number }[];
  failure?: { step: string; reason: string };
  [k: string]: unknown;
};

async function place(api: TestApi, change: { customerId?: string; token?: string; sku?: string; quantity?: number; address?: Partial<typeof ADDRESS> } = {}) {
  const res = await fetch(`${api.base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: change.customerId ?? 'cust_chor',
      items: [{ sku: change.sku ?? 'KB-001', quantity: change.quantity ?? 1 }],
      payment: { token: change.token ?? 'tok_visa' },
      shippingAddress: { ...ADDRESS, ...change.address },
      coordination: 'choreography',
    }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { orderId: string; coordination: string };
}

async function read(api: TestApi, orderId: string): Promise<Order> {
  const res = await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) });
  expect(res.status).toBe(200);
  return res.json();
}

async function until(api: TestApi, orderId: string, done: (o: Order) => boolean, timeoutMs = 30_000): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const order = await read(api, orderId);
    if (done(order)) return order;
    if (Date.now() > deadline) throw new Error(`order ${orderId} stayed ${order.status}: ${JSON.stringify(order.timeline)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const ended = (o: Order) => ['COMPLETED', 'COMPENSATED', 'FAILED', 'RESOLVED_MANUALLY', 'FAILED_NEEDS_MANUAL'].includes(o.status);
const stepOf = (o: Order, name: string) => o.steps.find((s) => s.name === name)!;
const stepStatuses = (o: Order) => Object.fromEntries(o.steps.map((s) => [s.name, s.status]));
/** Every step's status, in the saga's order; the steps not named are pending. */
const steps = (...statuses: string[]) => Object.fromEntries(STEPS.map((name, i) => [name, statuses[i] ?? 'pending']));
const ledger = (o: Order) => (o.services as { ledger: { kind: string }[] }).ledger.map((e) => e.kind);
const timeline = (o: Order) => (o.timeline as { type: string }[]).map((e) => e.type);

const FORWARD = ['OrderPlaced', 'FraudChecked', 'InventoryReserved', 'PaymentAuthorized', 'ShipmentCreated', 'PaymentCaptured', 'InventoryCommitted'];
/** The undos, each the reaction to the one before: the timeline of a rollback ends with them. */
const UNDOS = ['ShipmentCancelled', 'PaymentReversed', 'InventoryReleased'];
const COMPLETED_SERVICES = {
  payment: { status: 'CAPTURED' },
  inventory: { status: 'COMMITTED' },
  shipment: { status: 'CREATED', trackingNumber: expect.stringMatching(/^TRK/) },
};
/** An authorized payment voided, the stock released, the shipment that never was fenced. */
const VOIDED_SERVICES = {
  payment: { status: 'VOIDED' },
  inventory: { status: 'RELEASED', items: [{ sku: 'KB-001', quantity: 1 }] },
  shipment: { status: 'CANCELLED', trackingNumber: null },
};

describe('a choreographed checkout', () => {
  let api: TestApi;
  beforeAll(() => {
    api = apiWith();
  });

  it('completes the happy path: every service did its part, once', async () => {
    const { orderId, coordination } = await place(api);
    expect(coordination).toBe('choreography');
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPLETED', coordination: 'choreography', trackingNumber: expect.stringMatching(/^TRK/) });
    expect(stepStatuses(order)).toEqual(steps(...STEPS.map(() => 'completed')));
    expect(order.services).toMatchObject(COMPLETED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'CAPTURE']);
    expect(timeline(order)).toEqual(FORWARD);
  });

  // Nothing is held, taken or shipped: each undo ran, or left its tombstone (a
  // VOIDED payment, an empty RELEASED reservation) that fences off a late step.
  const NOTHING_HELD = { payment: { status: 'VOIDED' }, inventory: { status: 'RELEASED', items: [] }, shipment: { status: 'CANCELLED', trackingNumber: null } };
  const DECLINED = { ...VOIDED_SERVICES, payment: { status: 'DECLINED' } };
  it.each([
    {
      name: 'fraud suspected',
      change: { customerId: 'cust_fraud' },
      failure: { step: 'checkFraud', reason: 'fraud_suspected' },
      steps: steps('compensated', 'failed'),
      services: NOTHING_HELD,
      ledger: [],
      forward: ['OrderPlaced'],
    },
    {
      name: 'out of stock',
      change: { sku: 'GPU-01', quantity: 4 },
      failure: { step: 'reserveInventory', reason: 'out_of_stock' },
      steps: steps('compensated', 'completed', 'failed'),
      services: NOTHING_HELD,
      ledger: [],
      forward: ['OrderPlaced', 'FraudChecked'],
    },
    {
      name: 'card declined',
      change: { token: 'tok_declined' },
      failure: { step: 'authorizePayment', reason: 'card_declined' },
      steps: steps('compensated', 'completed', 'compensated', 'failed'),
      services: DECLINED,
      ledger: [],
      forward: ['OrderPlaced', 'FraudChecked', 'InventoryReserved'],
    },
    {
      name: 'unknown card token',
      change: { token: 'tok_nope' },
      failure: { step: 'authorizePayment', reason: 'invalid_token' },
      steps: steps('compensated', 'completed', 'compensated', 'failed'),
      services: DECLINED,
      ledger: [],
      forward: ['OrderPlaced', 'FraudChecked', 'InventoryReserved'],
    },
    {
      name: 'shipping rejected',
      change: { address: { country: 'XX' } },
      failure: { step: 'createShipment', reason: 'address_rejected' },
      steps: steps('compensated', 'completed', 'compensated', 'compensated', 'failed'),
      services: VOIDED_SERVICES,
      ledger: ['AUTHORIZE', 'VOID'],
      forward: ['OrderPlaced', 'FraudChecked', 'InventoryReserved', 'PaymentAuthorized'],
    },
  ])('$name: compensates, and names the step and the reason', async ({ change, failure, ...expected }) => {
    const { orderId } = await place(api, change);
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure });
    expect(stepStatuses(order)).toEqual(expected.steps);
    expect(order.services).toMatchObject(expected.services);
    expect(ledger(order)).toEqual(expected.ledger);
    expect(timeline(order)).toEqual([...expected.forward, 'StepFailed', ...UNDOS]);
  });

  it('flaky payment provider: retried with backoff, completes on the third attempt', async () => {
    const { orderId } = await place(api, { token: 'tok_flaky' });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect(stepOf(order, 'authorizePayment').attempts).toBe(3);
    expect(order.services).toMatchObject(COMPLETED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('lost provider response: the retry finds the authorization, one in the ledger', async () => {
    const { orderId } = await place(api, { token: 'tok_lost_response' });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect(stepOf(order, 'authorizePayment').attempts).toBe(2);
    expect(order.services).toMatchObject(COMPLETED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('payment provider down: the authorization gives up after its deliveries, the saga compensates, the order ends FAILED', async () => {
    const { orderId } = await place(api, { token: 'tok_provider_down' });
    // Eight deliveries, 18 to 36 s of backoff between them.
    const order = await until(api, orderId, ended, 90_000);
    expect(order).toMatchObject({ status: 'FAILED', failure: { step: 'authorizePayment', reason: 'retries_exhausted' } });
    expect(stepOf(order, 'authorizePayment')).toEqual({ name: 'authorizePayment', status: 'failed', attempts: FORWARD_ATTEMPTS });
    expect(stepStatuses(order)).toEqual(steps('compensated', 'completed', 'compensated', 'failed'));
    // No authorization ever happened: the payment's undo left its tombstone.
    expect(order.services).toMatchObject(VOIDED_SERVICES);
    expect(ledger(order)).toEqual([]);
    expect(timeline(order)).toEqual([...FORWARD.slice(0, 3), 'StepFailed', ...UNDOS]);
  }, 120_000);

  it('customer cancels while the carrier keeps failing: forward steps stop, what was done is undone', async () => {
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    await until(api, orderId, (o) => o.status === 'CREATING_SHIPMENT');
    const res = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
    expect(res.status).toBe(202);
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'cancelled_by_customer' } });
    expect(stepStatuses(order)).toEqual(steps('compensated', 'completed', 'compensated', 'compensated', 'failed'));
    expect(order.services).toMatchObject(VOIDED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'VOID']);
    expect(timeline(order)).toEqual([...FORWARD.slice(0, 4), 'StopRequested', ...UNDOS]);
    // Cancelling again is answered as the first was; a shipped order refuses.
    const again = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
    expect(again.status).toBe(202);
  });

  it('refuses to cancel an order that has shipped', async () => {
    const { orderId } = await place(api);
    await until(api, orderId, ended);
    const res = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
    expect(res.status).toBe(409);
  });

  it('refund refused: waits for an operator, whose retry and then mark-resolved end it', async () => {
    const { orderId } = await place(api, { token: 'tok_refund_fails', address: { country: 'XX' } });
    const held = await until(api, orderId, ended);
    expect(held).toMatchObject({ status: 'FAILED_NEEDS_MANUAL', failure: { step: 'createShipment', reason: 'address_rejected' } });
    expect(held.failedCompensations).toEqual([expect.objectContaining({ step: 'authorizePayment', reason: 'reversal_rejected' })]);
    // The hold the provider would not void is still there; everything else was undone.
    expect(stepStatuses(held)).toEqual(steps('completed', 'completed', 'compensated', 'compensation_failed', 'failed'));
    expect(held.services).toMatchObject({ ...VOIDED_SERVICES, payment: { status: 'AUTHORIZED' } });
    expect(ledger(held)).toEqual(['AUTHORIZE']);
    const resolve = (action: string) =>
      fetch(`${api.base}/orders/${orderId}/resolve`, {
        method: 'POST',
        headers: { ...asOperator, 'content-type': 'application/json' },
        body: JSON.stringify({ action, note: 'ticket 42' }),
      });
    expect((await resolve('retry')).status).toBe(200);
    await until(api, orderId, (o) => (o.timeline as { type: string }[]).filter((e) => e.type === 'InventoryReleased').length === 2);
    expect((await read(api, orderId)).status).toBe('FAILED_NEEDS_MANUAL');
    expect((await resolve('mark-resolved')).status).toBe(200);
    const resolved = await read(api, orderId);
    expect(resolved.status).toBe('RESOLVED_MANUALLY');
    // The operator's decisions and notes stay in the order's record, as the workflow keeps them.
    expect(resolved.resolutions).toEqual([
      { action: 'retry', note: 'ticket 42', at: expect.any(String) },
      { action: 'mark-resolved', note: 'ticket 42', at: expect.any(String) },
    ]);
  });
});

describe('an operator', () => {
  it('lists and counts choreographed orders, which no workflow lists, from the order service', async () => {
    const api = apiWith();
    const counts = async (): Promise<Record<string, number>> =>
      (await fetch(`${api.base}/order-counts?coordination=choreography`, { headers: asOperator })).json();
    // The file's other orders are counted too, and have all ended: only this one changes the counts.
    const before = await counts();
    const { orderId } = await place(api);
    await until(api, orderId, ended);
    const list = await fetch(`${api.base}/orders?coordination=choreography&status=COMPLETED&limit=1`, { headers: asOperator });
    expect(list.status).toBe(200);
    // A page at a time, newest first: this order, and a link to the next page.
    expect(await list.json()).toEqual([expect.objectContaining({ orderId, workflowId: null, status: 'COMPLETED' })]);
    expect(list.headers.get('link')).toMatch(/coordination=choreography/);
    expect(await counts()).toEqual({ ...before, COMPLETED: (before.COMPLETED ?? 0) + 1 });
  });
});

describe('a choreographed checkout against its deadlines', () => {
  it('carrier never answers: retried until the shipping SLA runs out, then compensated', async () => {
    const api = apiWith({ shippingSlaSeconds: 3 });
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'shipping_timeout' } });
    expect(stepStatuses(order)).toEqual(steps('compensated', 'completed', 'compensated', 'compensated', 'failed'));
    expect(order.services).toMatchObject(VOIDED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'VOID']);
    expect(timeline(order)).toEqual([...FORWARD.slice(0, 4), 'StepFailed', ...UNDOS]);
  });

  it('order TTL: stops the saga, which compensates', async () => {
    const api = apiWith({ orderTtlSeconds: 3 });
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'timed_out' } });
    expect(stepStatuses(order)).toEqual(steps('compensated', 'completed', 'compensated', 'compensated', 'failed'));
    expect(order.services).toMatchObject(VOIDED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'VOID']);
    expect(timeline(order)).toEqual([...FORWARD.slice(0, 4), 'OrderTtlExpired', 'StopRequested', ...UNDOS]);
  });

  it('slow carrier: the payment service renews the hold while the carrier retries', async () => {
    // The carrier's redeliveries wait 0.25–0.5 s, 0.5–1 s and 1–2 s: it ships
    // 1.75 to 3.5 s after the authorization. A 3 s hold is renewed with half of
    // it left, at 1.5 s and then at 4.5 s: once before the shipment, never twice.
    const api = apiWith({ paymentHoldSeconds: 3 });
    const { orderId } = await place(api, { address: { postalCode: '00001' } });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect(stepOf(order, 'createShipment').attempts).toBe(SLOW_FAILURES + 1);
    expect(order.services).toMatchObject(COMPLETED_SERVICES);
    expect(ledger(order)).toEqual(['AUTHORIZE', 'RENEW', 'CAPTURE']);
  });
});

describe('a choreographed checkout with a flaky carrier', () => {
  // README's "Flaky carrier" row: the shipping service fails half of its calls
  // transiently (CARRIER_FAILURE_RATE), and redelivery retries them with backoff.
  // With the default SLA (300 s) an order would have to meet some 30 failures
  // in a row to run it out: every order ships. (The SLA running out is "carrier
  // never answers", above.)
  let flaky: TestStack;
  let api: TestApi;
  beforeAll(async () => {
    flaky = await startTestStack({ worker: false, choreography: {}, carrierFailureRate: 0.5 });
    api = startTestApi(flaky, { choreographies: new ChoreographyClient(flaky.services, DEFAULT_DEADLINES) });
  });
  afterAll(async () => {
    api?.close();
    await flaky?.stop();
  });

  it('is retried with backoff: each order ships once', async () => {
    // Twelve orders: the chance that none of them meets a failure is 0.5^12.
    const placed = await Promise.all(Array.from({ length: 12 }, () => place(api)));
    // The slowest of twelve takes seconds; one in a hundred runs, a minute (ten failures in a row).
    const orders = await Promise.all(placed.map(({ orderId }) => until(api, orderId, ended, 150_000)));

    for (const order of orders) {
      expect(order.status).toBe('COMPLETED');
      expect(order.services).toMatchObject(COMPLETED_SERVICES);
      expect(ledger(order)).toEqual(['AUTHORIZE', 'CAPTURE']);
      expect(timeline(order)).toEqual(FORWARD);
    }
    expect(orders.some((o) => stepOf(o, 'createShipment').attempts > 1)).toBe(true);
  }, 180_000);

  itLeavesTheStoresConsistent(() => flaky.services);
});

itLeavesTheStoresConsistent(() => stack.services);
