import { ChoreographyClient } from '../../api/choreography-client';
import { DEFAULT_DEADLINES, type Deadlines } from '../../workflows/checkout-types';
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
    expect(order.steps.every((s) => s.status === 'completed')).toBe(true);
    expect(order.services).toMatchObject({
      payment: { status: 'CAPTURED' },
      inventory: { status: 'COMMITTED' },
      shipment: { status: 'CREATED' },
    });
    expect((order.services as { ledger: { kind: string }[] }).ledger.map((e) => e.kind)).toEqual(['AUTHORIZE', 'CAPTURE']);
    expect((order.timeline as { type: string }[]).map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'OrderPlaced',
        'FraudChecked',
        'InventoryReserved',
        'PaymentAuthorized',
        'ShipmentCreated',
        'PaymentCaptured',
        'InventoryCommitted',
      ]),
    );
  });

  it.each([
    ['fraud suspected', { customerId: 'cust_fraud' }, 'checkFraud', 'fraud_suspected'],
    ['out of stock', { sku: 'GPU-01', quantity: 4 }, 'reserveInventory', 'out_of_stock'],
    ['card declined', { token: 'tok_declined' }, 'authorizePayment', 'card_declined'],
    ['unknown card token', { token: 'tok_nope' }, 'authorizePayment', 'invalid_token'],
    ['shipping rejected', { address: { country: 'XX' } }, 'createShipment', 'address_rejected'],
  ] as const)('%s: compensates, and names the step and the reason', async (_name, change, step, reason) => {
    const { orderId } = await place(api, change);
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step, reason } });
    expect(stepOf(order, step).status).toBe('failed');
    const services = order.services as { payment: { status: string } | null; inventory: { status: string } | null; shipment: { status: string } | null };
    // Nothing is held, taken or shipped: each undo ran, or left its tombstone.
    expect(services.inventory?.status ?? 'RELEASED').toBe('RELEASED');
    expect(['VOIDED', 'DECLINED']).toContain(services.payment?.status ?? 'VOIDED');
    expect(services.shipment?.status ?? 'CANCELLED').toBe('CANCELLED');
  });

  it('flaky payment provider: retried with backoff, completes on the third attempt', async () => {
    const { orderId } = await place(api, { token: 'tok_flaky' });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect(stepOf(order, 'authorizePayment').attempts).toBe(3);
  });

  it('lost provider response: the retry finds the authorization, one in the ledger', async () => {
    const { orderId } = await place(api, { token: 'tok_lost_response' });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect((order.services as { ledger: { kind: string }[] }).ledger.filter((e) => e.kind === 'AUTHORIZE')).toHaveLength(1);
  });

  it('customer cancels while the carrier keeps failing: forward steps stop, what was done is undone', async () => {
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    await until(api, orderId, (o) => o.status === 'CREATING_SHIPMENT');
    const res = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
    expect(res.status).toBe(202);
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
    expect(order.services).toMatchObject({ payment: { status: 'VOIDED' }, inventory: { status: 'RELEASED' }, shipment: { status: 'CANCELLED' } });
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
    const { orderId } = await place(api);
    await until(api, orderId, ended);
    const list = await fetch(`${api.base}/orders?coordination=choreography&status=COMPLETED&limit=1`, { headers: asOperator });
    expect(list.status).toBe(200);
    const [first] = (await list.json()) as { orderId: string; workflowId: string | null; status: string }[];
    expect(first).toMatchObject({ workflowId: null, status: 'COMPLETED' });
    // A page at a time, newest first: the next page's link goes on from there.
    expect(list.headers.get('link')).toMatch(/coordination=choreography/);
    const counts = await (await fetch(`${api.base}/order-counts?coordination=choreography`, { headers: asOperator })).json();
    expect(counts.COMPLETED).toBeGreaterThanOrEqual(1);
    expect(counts.FAILED_NEEDS_MANUAL).toBeGreaterThanOrEqual(0);
  });
});

describe('a choreographed checkout against its deadlines', () => {
  it('carrier never answers: retried until the shipping SLA runs out, then compensated', async () => {
    const api = apiWith({ shippingSlaSeconds: 3 });
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'shipping_timeout' } });
    expect(order.services).toMatchObject({ payment: { status: 'VOIDED' }, inventory: { status: 'RELEASED' } });
  });

  it('order TTL: stops the saga, which compensates', async () => {
    const api = apiWith({ orderTtlSeconds: 3 });
    const { orderId } = await place(api, { address: { postalCode: '00000' } });
    const order = await until(api, orderId, ended);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'timed_out' } });
  });

  it('slow carrier: the payment service renews the hold while the carrier retries', async () => {
    const api = apiWith({ paymentHoldSeconds: 2 });
    const { orderId } = await place(api, { address: { postalCode: '00001' } });
    const order = await until(api, orderId, ended);
    expect(order.status).toBe('COMPLETED');
    expect((order.services as { ledger: { kind: string }[] }).ledger.map((e) => e.kind)).toContain('RENEW');
  });
});

describe('a choreographed checkout with a flaky carrier', () => {
  // README's "Flaky carrier" row: the shipping service fails half of its calls
  // transiently (CARRIER_FAILURE_RATE), and redelivery retries them with backoff.
  let flaky: TestStack;
  let api: TestApi;
  beforeAll(async () => {
    flaky = await startTestStack({ worker: false, choreography: {}, carrierFailureRate: 0.5 });
    api = startTestApi(flaky, { choreographies: new ChoreographyClient(flaky.services, { ...DEFAULT_DEADLINES, shippingSlaSeconds: 30 }) });
  });
  afterAll(async () => {
    api?.close();
    await flaky?.stop();
  });

  it('is retried with backoff: each order ships once or is compensated at its SLA', async () => {
    // Twelve orders: the chance that none of them meets a failure is 0.5^12.
    const placed = await Promise.all(Array.from({ length: 12 }, () => place(api)));
    const orders = await Promise.all(placed.map(({ orderId }) => until(api, orderId, ended, 60_000)));

    for (const order of orders) {
      const services = order.services as { ledger: { kind: string }[]; shipment: { status: string } | null };
      if (order.status === 'COMPLETED') {
        expect(services.ledger.map((e) => e.kind)).toEqual(['AUTHORIZE', 'CAPTURE']);
        expect(services.shipment).toMatchObject({ status: 'CREATED' });
      } else {
        expect(order).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'shipping_timeout' } });
        expect(services.ledger.map((e) => e.kind)).toEqual(['AUTHORIZE', 'VOID']);
      }
    }
    expect(orders.some((o) => stepOf(o, 'createShipment').attempts > 1)).toBe(true);
  }, 90_000);

  itLeavesTheStoresConsistent(() => flaky.services);
});

itLeavesTheStoresConsistent(() => stack.services);
