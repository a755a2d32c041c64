import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { SagaEvent } from '../../services/choreography/saga-events';
import { sagaSubject } from '../../services/choreography/saga-stream';
import { SagaSweeper } from '../../services/order/saga-sweeper';
import { DEFAULT_DEADLINES } from '../../workflows/checkout-types';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { ADDRESS } from '../support/scenarios';
import { startTestStack, type TestStack } from '../support/test-stack';

// What a choreographed saga must survive that a workflow's history rules out:
// events delivered twice, late or out of order, events nobody can read, and
// sagas whose events stopped. Real PostgreSQL and nats-server, no Temporal.
let stack: TestStack;
let nc: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, choreography: {} });
  nc = await connect({ servers: process.env.NATS_URL! });
});
afterAll(async () => {
  await nc?.close();
  await stack?.stop();
});

let n = 0;
async function placed(change: { token?: string; postalCode?: string } = {}): Promise<string> {
  const orderId = `ord_delivery_${++n}_${Date.now()}`;
  await stack.services.orders.place(
    {
      orderId,
      customerId: 'cust_delivery',
      items: [{ sku: 'KB-001', quantity: 1 }],
      paymentToken: change.token ?? 'tok_visa',
      shippingAddress: { ...ADDRESS, postalCode: change.postalCode ?? ADDRESS.postalCode },
      deadlines: DEFAULT_DEADLINES,
    },
    `${orderId}:placeOrder`,
  );
  return orderId;
}

async function until<T>(read: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const statusOf = (orderId: string) =>
  until(
    () => stack.services.orders.orderFor(orderId),
    (o) => o?.status !== 'PENDING',
  );
const eventOf = async (orderId: string, type: string) => (await stack.services.orders.timeline(orderId)).find((e) => e.type === type)!;
const counted = async (consumer: string, outcome: string) =>
  (await stack.metrics.choreographyEvents.get()).values.find((v) => v.labels.consumer === consumer && v.labels.outcome === outcome)?.value ?? 0;
const publish = (event: SagaEvent | object, type: string, msgID: string) =>
  jetstream(nc).publish(sagaSubject(stack.sagaNames!, type), JSON.stringify(event), { msgID });

describe('a choreographed saga', () => {
  it('takes an event delivered twice once: the inbox knows its id', async () => {
    const orderId = await placed();
    expect((await statusOf(orderId))?.status).toBe('COMPLETED');
    const before = await counted('inventory-reserve', 'duplicate');
    // Past JetStream's duplicate window, as after a relay that crashed long ago: a new message id, the same event.
    await publish(await eventOf(orderId, 'FraudChecked'), 'FraudChecked', `redelivered-${orderId}`);
    await until(
      () => counted('inventory-reserve', 'duplicate'),
      (c) => c > before,
    );
    expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'COMMITTED' });
    expect((await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('is not moved by an event that arrives after it compensated: the fences refuse it', async () => {
    const orderId = await placed({ token: 'tok_declined' });
    expect(await statusOf(orderId)).toMatchObject({ status: 'COMPENSATED', failure: { step: 'authorizePayment', reason: 'card_declined' } });
    // A stale InventoryReserved, delivered late under another id: the payment's tombstone refuses to authorize.
    const reserved = await eventOf(orderId, 'InventoryReserved');
    const late = { ...reserved, eventId: `${reserved.eventId}:late` };
    const before = await counted('payment-authorize', 'handled');
    await publish(late, 'InventoryReserved', late.eventId);
    await until(
      () => counted('payment-authorize', 'handled'),
      (c) => c > before,
    );
    expect(await stack.services.payments.paymentFor(orderId)).toMatchObject({ status: 'DECLINED' });
    expect((await stack.services.orders.orderFor(orderId))?.status).toBe('COMPENSATED');
    expect((await stack.services.orders.timeline(orderId)).filter((e) => e.type === 'PaymentAuthorized')).toEqual([]);
  });

  it('sends an event of an unknown version to the dead-letter stream and counts it, never drops it', async () => {
    const orderId = await placed();
    await statusOf(orderId);
    const future = { ...(await eventOf(orderId, 'OrderPlaced')), version: 2, eventId: `${orderId}:from-the-future` };
    const before = await counted('fraud-check', 'dead_letter');
    await publish(future, 'OrderPlaced', future.eventId);
    await until(
      () => counted('fraud-check', 'dead_letter'),
      (c) => c > before,
    );
    const jsm = await jetstreamManager(nc);
    const dlq = await jsm.streams.info(stack.sagaNames!.deadLetterStream);
    expect(dlq.state.messages).toBeGreaterThanOrEqual(1);
    const kept = await jsm.streams.getMessage(stack.sagaNames!.deadLetterStream, { last_by_subj: `${stack.sagaNames!.deadLetterPrefix}.fraud-check` });
    expect(kept?.header.get('Dead-Letter-Reason')).toBe('unknown_version');
    expect(kept?.json<{ eventId: string }>().eventId).toBe(future.eventId);
  });
});

describe('the stuck-saga sweeper', () => {
  it('stops an order whose events stopped, and hands it to an operator if that does not end it', async () => {
    // Its own database and no consumers: events written to the outboxes never travel.
    const quiet = await startTestStack({ worker: false });
    try {
      const orderId = `ord_stalled_${Date.now()}`;
      await quiet.services.orders.place(
        {
          orderId,
          customerId: 'cust_stalled',
          items: [{ sku: 'KB-001', quantity: 1 }],
          paymentToken: 'tok_visa',
          shippingAddress: ADDRESS,
          deadlines: DEFAULT_DEADLINES,
        },
        `${orderId}:placeOrder`,
      );
      const sweeper = new SagaSweeper(quiet.db, quiet.services.orders, 60);
      expect(await sweeper.sweepOnce(new Date())).toEqual({ stopped: [], heldForOperator: [] });

      const later = new Date(Date.now() + 120_000);
      expect(await sweeper.sweepOnce(later)).toEqual({ stopped: [orderId], heldForOperator: [] });
      const [stop] = await quiet.db.$queryRaw<{ type: string; payload: { reason: string; step: string } }[]>`
        SELECT type, payload FROM orders.saga_outbox WHERE type = 'StopRequested' AND order_id = ${orderId}`;
      expect(stop).toMatchObject({ payload: { reason: 'stalled', step: 'createOrder' } });

      // The stop was received, and still nothing moved: an operator decides.
      await quiet.db.$executeRaw`
        INSERT INTO orders.saga_events (event_id, order_id, type, payload, occurred_at, received_at)
        SELECT id, order_id, type, payload, now(), now() - interval '1 hour' FROM orders.saga_outbox WHERE type = 'StopRequested' AND order_id = ${orderId}`;
      expect(await sweeper.sweepOnce(later)).toEqual({ stopped: [], heldForOperator: [orderId] });
      expect(await quiet.services.orders.orderFor(orderId)).toMatchObject({ status: 'FAILED_NEEDS_MANUAL', failure: { reason: 'stalled' } });
    } finally {
      await quiet.stop();
    }
  });
});

itLeavesTheStoresConsistent(() => stack.services);
