import { randomUUID } from 'node:crypto';
import { ensureOrderStream, subjectFor, type OrderStreamNames } from '../../services/order/order-stream';
import { ensureNotificationConsumer, NotificationConsumer } from '../../services/notification/notification-consumer';
import type { OrderClosedFact } from '../../services/order/order-events';
import { eventually, useJetStream } from '../support/jetstream';
import { uniqueId, useServiceDb } from '../support/service-db';

// The notification service's consumer against a real JetStream and a real
// database: facts published by hand, so each delivery pattern is exact.
const ctx = useServiceDb();
const nats = useJetStream();
const logs: string[] = [];

function fact(overrides: Partial<OrderClosedFact> = {}): OrderClosedFact {
  return {
    version: 1,
    eventId: randomUUID(),
    type: 'OrderCompleted',
    occurredAt: new Date().toISOString(),
    orderId: uniqueId('ord'),
    customerId: 'cust_n',
    status: 'COMPLETED',
    total: 4999,
    currency: 'USD',
    failure: null,
    ...overrides,
  };
}

async function setUp(): Promise<OrderStreamNames> {
  const names = nats.freshNames();
  await ensureOrderStream(nats.jsm, names);
  await ensureNotificationConsumer(nats.jsm, names);
  return names;
}

const publish = (names: OrderStreamNames, f: OrderClosedFact | string, msgID = randomUUID()) =>
  nats.js.publish(subjectFor(names, typeof f === 'string' ? 'OrderCompleted' : f.type), typeof f === 'string' ? f : JSON.stringify(f), { msgID });

/** Runs the real consumer loop until every delivered message was acked or terminated. */
async function consumeAll(names: OrderStreamNames, expectedDelivered: number): Promise<void> {
  const stop = new AbortController();
  const running = new NotificationConsumer(ctx.services.notifications, (m) => logs.push(m)).run(nats.js, names, stop.signal);
  try {
    await eventually(async () => {
      const info = await nats.jsm.consumers.info(names.stream, 'notifications');
      return info.delivered.stream_seq >= expectedDelivered && info.num_ack_pending === 0 && info.num_pending === 0;
    }, `${expectedDelivered} facts handled`);
  } finally {
    stop.abort();
    await running;
  }
}

describe('notification consumer', () => {
  it('a fact delivered twice sends one notification', async () => {
    const names = await setUp();
    const f = fact();
    // Published twice under different message ids, as a relay would after
    // JetStream's duplicate window: both copies reach the consumer.
    await publish(names, f);
    await publish(names, f);
    await consumeAll(names, 2);

    const sent = await ctx.services.notifications.notificationsFor(f.orderId);
    expect(sent).toEqual([
      expect.objectContaining({ eventId: f.eventId, channel: 'email', to: 'cust_n@example.com', subject: `Your order ${f.orderId} is confirmed` }),
    ]);
    expect(await ctx.db.inboxMessage.count({ where: { eventId: f.eventId } })).toBe(1);
  });

  it('a redelivery after the notification was stored but before the ack sends nothing more', async () => {
    const names = await setUp();
    const f = fact();
    await publish(names, f);
    const consumer = await nats.js.consumers.get(names.stream, 'notifications');
    const handler = new NotificationConsumer(ctx.services.notifications, (m) => logs.push(m));

    // The first delivery is stored, then the ack is lost (a crash, a network cut).
    const first = await consumer.next({ expires: 5000 });
    await ctx.services.notifications.handle(JSON.parse(first!.string()));
    first!.nak();
    const again = await consumer.next({ expires: 5000 });

    expect(again!.info.deliveryCount).toBe(2);
    await expect(handler.handle(again!)).resolves.toBe('duplicate');
    expect(await ctx.services.notifications.notificationsFor(f.orderId)).toHaveLength(1);
  });

  it('facts of two orders arriving out of order, interleaved with copies, each get their own notification', async () => {
    const names = await setUp();
    const a = fact({ customerId: 'cust_a', total: 1000 });
    const b = fact({
      customerId: 'cust_b',
      type: 'OrderCompensated',
      status: 'COMPENSATED',
      total: 2500,
      failure: { step: 'chargePayment', reason: 'card_declined' },
    });
    // b closed after a, but its fact is seen first; a's copy arrives after both.
    for (const f of [b, a, b, a]) await publish(names, f);
    await consumeAll(names, 4);

    expect(await ctx.services.notifications.notificationsFor(a.orderId)).toEqual([
      expect.objectContaining({
        eventId: a.eventId,
        to: 'cust_a@example.com',
        subject: `Your order ${a.orderId} is confirmed`,
        body: expect.stringContaining('10.00 USD'),
      }),
    ]);
    expect(await ctx.services.notifications.notificationsFor(b.orderId)).toEqual([
      expect.objectContaining({
        eventId: b.eventId,
        to: 'cust_b@example.com',
        subject: `Your order ${b.orderId} could not be completed`,
        body: expect.stringContaining('card declined'),
      }),
    ]);
  });

  it('terminates a malformed fact with a log line instead of redelivering it, and goes on with the next', async () => {
    const names = await setUp();
    const good = fact();
    await publish(names, 'not json at all');
    await publish(names, JSON.stringify({ ...fact(), total: 'a lot' }));
    await publish(names, JSON.stringify({ ...fact(), type: 'OrderCompleted', status: 'FAILED' }));
    await publish(names, good);
    await consumeAll(names, 4);

    const info = await nats.jsm.consumers.info(names.stream, 'notifications');
    expect(info.num_redelivered).toBe(0);
    expect(await ctx.services.notifications.notificationsFor(good.orderId)).toHaveLength(1);
    expect(logs.filter((l) => l.includes('terminated malformed fact'))).toHaveLength(3);
    expect(logs.join('\n')).toMatch(/total: Invalid input/);
  });
});
