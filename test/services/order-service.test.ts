import { eventId } from '../../services/choreography/saga-events';
import { completeEvent } from '../../services/choreography/saga-outbox';
import { uniqueId, useServiceDb } from '../support/service-db';

const ctx = useServiceDb();

describe('OrderService', () => {
  it('prices an order from the catalog, once per idempotency key', async () => {
    const sku = uniqueId('SKU');
    await ctx.services.inventory.upsertProduct({ sku, name: 'Lamp', price: 1999, stock: 10 });
    const orderId = uniqueId('ord');
    const order = { orderId, customerId: 'cust_1', items: [{ sku, quantity: 3 }] };

    const first = await ctx.services.orders.create(order, `${orderId}:create`);
    const again = await ctx.services.orders.create(order, `${orderId}:create`);

    expect(first).toMatchObject({ status: 'PENDING', total: 5997, items: [{ sku, quantity: 3, unitPrice: 1999 }] });
    expect(again).toEqual(first);
    expect(await ctx.db.order.count({ where: { id: orderId } })).toBe(1);
  });

  it('refuses an unknown SKU', async () => {
    const orderId = uniqueId('ord');
    await expect(ctx.services.orders.create({ orderId, customerId: 'c', items: [{ sku: 'NOPE', quantity: 1 }] }, `${orderId}:create`)).rejects.toMatchObject({
      code: 'unknown_sku',
    });
  });

  it('closes an order once: the first outcome wins, repeats are no-ops', async () => {
    const orderId = uniqueId('ord');
    await ctx.services.orders.create({ orderId, customerId: 'c', items: [{ sku: 'KB-001', quantity: 1 }] }, `${orderId}:create`);
    const outcome = { status: 'COMPENSATED' as const, failedStep: 'chargePayment', reason: 'card_declined' };

    await ctx.services.orders.close(orderId, outcome, `${orderId}:close`);
    await expect(ctx.services.orders.close(orderId, outcome, `${orderId}:close`)).resolves.toMatchObject({
      status: 'COMPENSATED',
      failure: { step: 'chargePayment', reason: 'card_declined' },
    });
    await expect(ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:complete`)).rejects.toMatchObject({ code: 'order_closed' });
  });

  it('a choreographed order closes with the event that closed it already in its timeline', async () => {
    const orderId = uniqueId('ord');
    const order = {
      orderId,
      customerId: 'c',
      items: [{ sku: 'KB-001', quantity: 1 }],
      paymentToken: 'tok_visa',
      shippingAddress: { name: 'Ada', line1: '1 St', city: 'London', postalCode: 'N1', country: 'GB' },
      deadlines: { orderTtlSeconds: 900, shippingSlaSeconds: 300, paymentHoldSeconds: 600 },
    };
    await ctx.services.orders.place(order, `${orderId}:place`);
    const facts = { ...order, total: 12900, currency: 'USD' };
    const committed = completeEvent(orderId, facts, { type: 'InventoryCommitted', eventId: eventId(orderId, 'InventoryCommitted'), attempt: 1 });

    await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:completeOrder`, committed);
    // Closed and recorded in one statement: no read sees one without the other.
    expect((await ctx.services.orders.timeline(orderId)).map((e) => e.eventId)).toEqual([committed.eventId]);
    // Its redelivery closes nothing more, and adds nothing to the timeline.
    await ctx.services.orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:completeOrder`, committed);
    expect(await ctx.services.orders.timeline(orderId)).toHaveLength(1);
  });

  it('closing an order that was never created is a no-op', async () => {
    await expect(ctx.services.orders.close(uniqueId('ord'), { status: 'COMPLETED' }, 'never-created:close')).resolves.toBeNull();
  });

  it('holds an order for an operator until its saga closes it; holding again changes nothing', async () => {
    const orderId = uniqueId('ord');
    await ctx.services.orders.create({ orderId, customerId: 'c', items: [{ sku: 'KB-001', quantity: 1 }] }, `${orderId}:create`);
    const failure = { failedStep: 'createShipment', reason: 'address_rejected' };

    const held = await ctx.services.orders.holdForOperator(orderId, failure);
    expect(held).toMatchObject({ status: 'FAILED_NEEDS_MANUAL', failure: { step: 'createShipment', reason: 'address_rejected' } });
    expect(await ctx.services.orders.holdForOperator(orderId, failure)).toEqual(held);
    // Still open: nothing is published until the saga closes it.
    expect(await ctx.db.outboxEvent.count({ where: { orderId } })).toBe(0);

    const outcome = { status: 'RESOLVED_MANUALLY' as const, ...failure };
    await expect(ctx.services.orders.close(orderId, outcome, `${orderId}:close`)).resolves.toMatchObject({ status: 'RESOLVED_MANUALLY' });
    expect(await ctx.db.outboxEvent.count({ where: { orderId } })).toBe(1);
    // A closed order is not held again.
    await expect(ctx.services.orders.holdForOperator(orderId, failure)).resolves.toMatchObject({ status: 'RESOLVED_MANUALLY' });
  });
});
