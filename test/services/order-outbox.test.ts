import { randomUUID } from 'node:crypto';
import { orderClosedFactSchema } from '../../services/order/order-events';
import { uniqueId, useServiceDb } from '../support/service-db';
import { isUniqueViolation } from '../../lib/db';

const ctx = useServiceDb();

async function newOrder(customerId = 'cust_outbox') {
  const orderId = uniqueId('ord');
  await ctx.services.orders.create({ orderId, customerId, items: [{ sku: 'KB-001', quantity: 2 }] }, `${orderId}:create`);
  return orderId;
}

describe('order outbox', () => {
  it('writes the terminal fact with everything a listener needs, in the closing transaction', async () => {
    const orderId = await newOrder();
    const closed = await ctx.services.orders.close(
      orderId,
      { status: 'COMPENSATED', failedStep: 'chargePayment', reason: 'card_declined' },
      `${orderId}:close`,
    );

    const rows = await ctx.db.outboxEvent.findMany({ where: { orderId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'OrderCompensated', publishedAt: null });
    const fact = orderClosedFactSchema.parse(rows[0].payload);
    expect(fact).toMatchObject({
      eventId: rows[0].id,
      type: 'OrderCompensated',
      orderId,
      customerId: 'cust_outbox',
      status: 'COMPENSATED',
      total: closed!.total,
      currency: 'USD',
      failure: { step: 'chargePayment', reason: 'card_declined' },
    });
  });

  it.each([
    ['COMPLETED', 'OrderCompleted'],
    ['FAILED', 'OrderFailed'],
    ['RESOLVED_MANUALLY', 'OrderResolvedManually'],
  ] as const)('names the fact of a %s order %s', async (status, type) => {
    const orderId = await newOrder();
    const outcome = status === 'COMPLETED' ? { status } : { status, failedStep: 'createShipment', reason: 'x' };
    await ctx.services.orders.close(orderId, outcome, `${orderId}:close`);
    expect(await ctx.db.outboxEvent.findMany({ where: { orderId }, select: { type: true } })).toEqual([{ type }]);
  });

  it('closing twice writes one fact', async () => {
    const orderId = await newOrder();
    await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`);
    await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`);
    await Promise.all([1, 2, 3].map(() => ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`)));
    expect(await ctx.db.outboxEvent.count({ where: { orderId } })).toBe(1);
  });

  it('concurrent first closes write one fact', async () => {
    const orderId = await newOrder();
    await Promise.all([1, 2, 3, 4].map(() => ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`)));
    expect(await ctx.db.outboxEvent.count({ where: { orderId } })).toBe(1);
  });

  it('when the fact cannot be written, the status change rolls back with it', async () => {
    const orderId = await newOrder();
    // A stray fact of the same kind makes the outbox insert fail inside close().
    await ctx.db.outboxEvent.create({ data: { id: randomUUID(), orderId, type: 'OrderCompleted', payload: {} } });

    const failed: unknown = await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`).catch((err: unknown) => err);
    expect(isUniqueViolation(failed)).toBe(true);

    expect(await ctx.db.order.findUnique({ where: { id: orderId } })).toMatchObject({ status: 'PENDING', settleKey: null });
    expect(await ctx.db.outboxEvent.count({ where: { orderId } })).toBe(1);
  });
});
