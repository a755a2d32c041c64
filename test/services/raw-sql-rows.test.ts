import { PAYMENT_COLUMNS } from '../../services/payment/ledger';
import { SHIPMENT_COLUMNS } from '../../services/shipping/shipping-service';
import { ADDRESS } from '../support/scenarios';
import { uniqueId, useServiceDb } from '../support/service-db';

// The saga's hot paths read and write with hand-written SQL (see docs/development.md,
// "Why some things are hand-written"); the Prisma models stay the schema's source.
// If a column is added, renamed or retyped in the schema and not in the SQL,
// these rows stop matching what Prisma reads from the same table.
const ctx = useServiceDb();

async function checkedOutOrder() {
  const orderId = uniqueId('ord');
  const { orders, inventory, payments, shipping } = ctx.services;
  const items = [
    { sku: 'MS-002', quantity: 2 },
    { sku: 'KB-001', quantity: 1 },
  ];
  await orders.create({ orderId, customerId: 'cust_rows', items }, `${orderId}:create`);
  await inventory.reserve(orderId, items, `${orderId}:reserve`);
  await payments.authorize({ orderId, token: 'tok_visa', amount: 100, currency: 'USD', holdSeconds: 600 }, `${orderId}:authorize`);
  await shipping.createShipment(orderId, ADDRESS, `${orderId}:ship`);
  return orderId;
}

it('a payment row read through PAYMENT_COLUMNS is the Prisma model row', async () => {
  const orderId = await checkedOutOrder();
  const [raw] = await ctx.db.$queryRaw<unknown[]>`SELECT ${PAYMENT_COLUMNS} FROM payments.payments WHERE order_id = ${orderId}`;
  expect(raw).toEqual(await ctx.db.payment.findUnique({ where: { orderId } }));
});

it('a shipment row read through SHIPMENT_COLUMNS is the Prisma model row', async () => {
  const orderId = await checkedOutOrder();
  const [raw] = await ctx.db.$queryRaw<unknown[]>`SELECT ${SHIPMENT_COLUMNS} FROM shipping.shipments WHERE order_id = ${orderId}`;
  expect(raw).toEqual(await ctx.db.shipment.findUnique({ where: { orderId } }));
});

it('an order and a reservation written with SQL read back through the models as the services describe them', async () => {
  const orderId = await checkedOutOrder();
  const order = await ctx.db.order.findUnique({ where: { id: orderId }, include: { lines: { orderBy: { sku: 'asc' } } } });
  expect(order).toMatchObject({ status: 'PENDING', customerId: 'cust_rows', currency: 'USD', idempotencyKey: `${orderId}:create` });
  expect(order!.lines.map(({ sku, quantity }) => ({ sku, quantity }))).toEqual([
    { sku: 'KB-001', quantity: 1 },
    { sku: 'MS-002', quantity: 2 },
  ]);
  expect(await ctx.services.orders.orderFor(orderId)).toMatchObject({
    orderId,
    total: order!.total,
    items: order!.lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
  });

  const committed = await ctx.services.inventory.commit(orderId, `${orderId}:commit`);
  expect(committed).toEqual(await ctx.services.inventory.reservationFor(orderId));
  expect(committed).toMatchObject({
    status: 'COMMITTED',
    items: [
      { sku: 'KB-001', quantity: 1 },
      { sku: 'MS-002', quantity: 2 },
    ],
  });
});
