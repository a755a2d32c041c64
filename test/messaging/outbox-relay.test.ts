import { ensureOrderStream, type OrderStreamNames } from '../../services/order/order-stream';
import { ensureNotificationConsumer, NotificationConsumer } from '../../services/notification/notification-consumer';
import { OutboxRelay } from '../../services/order/outbox-relay';
import { eventually, useJetStream } from '../support/jetstream';
import { uniqueId, useServiceDb } from '../support/service-db';

// The relay between the orders schema's outbox and a real JetStream.
const ctx = useServiceDb();
const nats = useJetStream();

async function closedOrders(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const orderId = uniqueId('ord');
    await ctx.services.orders.create({ orderId, customerId: `cust_${i}`, items: [{ sku: 'KB-001', quantity: 1 }] }, `${orderId}:create`);
    await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`);
    ids.push(orderId);
  }
  return ids;
}

async function setUp(): Promise<OrderStreamNames> {
  // Facts left over from earlier tests in this file are not this test's business.
  await ctx.db.outboxEvent.updateMany({ where: { publishedAt: null }, data: { publishedAt: new Date() } });
  const names = nats.freshNames();
  await ensureOrderStream(nats.jsm, names);
  await ensureNotificationConsumer(nats.jsm, names);
  return names;
}

const messagesIn = async (names: OrderStreamNames) => (await nats.jsm.streams.info(names.stream)).state.messages;
const unpublished = (orderIds: string[]) => ctx.db.outboxEvent.count({ where: { orderId: { in: orderIds }, publishedAt: null } });

describe('outbox relay', () => {
  it('publishes each fact once, with its event id as the message id, then marks it', async () => {
    const names = await setUp();
    const orders = await closedOrders(3);

    await expect(new OutboxRelay(ctx.db, nats.js, names).relayOnce()).resolves.toEqual({ published: 3, duplicates: 0 });
    await expect(new OutboxRelay(ctx.db, nats.js, names).relayOnce()).resolves.toEqual({ published: 0, duplicates: 0 });

    expect(await unpublished(orders)).toBe(0);
    expect(await messagesIn(names)).toBe(3);
    const last = await nats.jsm.streams.getMessage(names.stream, { last_by_subj: `${names.subjectPrefix}.OrderCompleted` });
    const row = await ctx.db.outboxEvent.findFirstOrThrow({ where: { orderId: orders[2] } });
    expect(last!.header.get('Nats-Msg-Id')).toBe(row.id);
    expect(last!.json()).toEqual(row.payload);
  });

  it('a relay killed between publishing and marking loses and duplicates nothing', async () => {
    const names = await setUp();
    const orders = await closedOrders(4);

    const crashing = new OutboxRelay(ctx.db, nats.js, names, {
      afterPublish: () => {
        throw new Error('killed after JetStream acked, before the rows were marked');
      },
    });
    await expect(crashing.relayOnce()).rejects.toThrow('killed');
    expect(await unpublished(orders)).toBe(4);
    expect(await messagesIn(names)).toBe(4);

    // A fresh relay finds the rows unmarked and publishes them again; JetStream
    // recognises the message ids and stores nothing new.
    await expect(new OutboxRelay(ctx.db, nats.js, names).relayOnce()).resolves.toEqual({ published: 4, duplicates: 4 });
    expect(await unpublished(orders)).toBe(0);
    expect(await messagesIn(names)).toBe(4);

    const stop = new AbortController();
    const consuming = new NotificationConsumer(ctx.services.notifications, () => undefined).run(nats.js, names, stop.signal);
    await eventually(async () => (await ctx.db.notification.count({ where: { orderId: { in: orders } } })) === 4, 'four notifications');
    await eventually(async () => (await nats.jsm.consumers.info(names.stream, 'notifications')).num_ack_pending === 0, 'all acked');
    stop.abort();
    await consuming;
    for (const orderId of orders) expect(await ctx.services.notifications.notificationsFor(orderId)).toHaveLength(1);
  });

  it('two relays share the outbox instead of publishing the same rows', async () => {
    const names = await setUp();
    const orders = await closedOrders(24);
    const relays = [1, 2].map(() => new OutboxRelay(ctx.db, nats.js, names, { batchSize: 4 }));

    let published = 0;
    let duplicates = 0;
    const drain = async (relay: OutboxRelay) => {
      for (;;) {
        const r = await relay.relayOnce();
        if (r.published === 0) return;
        published += r.published;
        duplicates += r.duplicates;
      }
    };
    await Promise.all(relays.map(drain));

    expect({ published, duplicates }).toEqual({ published: 24, duplicates: 0 });
    expect(await unpublished(orders)).toBe(0);
    expect(await messagesIn(names)).toBe(24);
  });

  it('without a reachable JetStream the facts stay in the outbox', async () => {
    const names = await setUp();
    const orders = await closedOrders(2);
    const missing = { stream: names.stream, subjectPrefix: 'nobody.listens' };

    await expect(new OutboxRelay(ctx.db, nats.js, missing, { publishTimeoutMs: 500 }).relayOnce()).rejects.toThrow();
    expect(await unpublished(orders)).toBe(2);
  });
});
