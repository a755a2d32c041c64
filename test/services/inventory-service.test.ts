import { BusinessError } from '../../services/errors';
import { InventoryService } from '../../services/inventory/inventory-service';
import { uniqueId, useServiceDb } from '../support/service-db';

const ctx = useServiceDb();

async function newProduct(stock: number) {
  const sku = uniqueId('SKU');
  await ctx.services.inventory.upsertProduct({ sku, name: 'Test product', price: 1000, stock });
  return sku;
}
const product = (sku: string) => ctx.db.product.findUniqueOrThrow({ where: { sku } });

describe('InventoryService', () => {
  it('seeds a catalog of at least 5 SKUs, one of them with a stock of 3 or less', async () => {
    const catalog = await ctx.services.inventory.catalog();
    expect(catalog.length).toBeGreaterThanOrEqual(5);
    expect(catalog.some((p) => p.available <= 3)).toBe(true);
  });

  it('reserves stock once per idempotency key', async () => {
    const sku = await newProduct(10);
    const orderId = uniqueId('ord');
    const first = await ctx.services.inventory.reserve(orderId, [{ sku, quantity: 2 }], `${orderId}:reserve`);
    const again = await ctx.services.inventory.reserve(orderId, [{ sku, quantity: 2 }], `${orderId}:reserve`);

    expect(again).toEqual(first);
    expect(await ctx.db.reservation.count({ where: { orderId } })).toBe(1);
    expect(await product(sku)).toMatchObject({ available: 8, reserved: 2 });
  });

  it('refuses out-of-stock orders as a business failure and changes nothing', async () => {
    const sku = await newProduct(1);
    const other = await newProduct(5);
    const orderId = uniqueId('ord');
    const attempt = ctx.services.inventory.reserve(
      orderId,
      [
        { sku: other, quantity: 1 },
        { sku, quantity: 2 },
      ],
      `${orderId}:reserve`,
    );

    await expect(attempt).rejects.toMatchObject({ code: 'out_of_stock' });
    await expect(attempt).rejects.toBeInstanceOf(BusinessError);
    expect(await product(sku)).toMatchObject({ available: 1, reserved: 0 });
    expect(await product(other)).toMatchObject({ available: 5, reserved: 0 });
    expect(await ctx.db.reservation.count({ where: { orderId } })).toBe(0);
  });

  it('never oversells under concurrent orders for the last units', async () => {
    const sku = await newProduct(3);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => {
        const orderId = uniqueId('ord');
        return ctx.services.inventory.reserve(orderId, [{ sku, quantity: 1 }], `${orderId}:reserve`);
      }),
    );

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('out_of_stock'));
    expect(await product(sku)).toMatchObject({ available: 0, reserved: 3 });
  });

  it('releases held stock, idempotently', async () => {
    const sku = await newProduct(4);
    const orderId = uniqueId('ord');
    await ctx.services.inventory.reserve(orderId, [{ sku, quantity: 3 }], `${orderId}:reserve`);
    await ctx.services.inventory.release(orderId, `${orderId}:release`);
    const again = await ctx.services.inventory.release(orderId, `${orderId}:release`);

    expect(again.status).toBe('RELEASED');
    expect(await product(sku)).toMatchObject({ available: 4, reserved: 0 });
  });

  it('a release before any reserve fences off a late reserve', async () => {
    const sku = await newProduct(4);
    const orderId = uniqueId('ord');
    await expect(ctx.services.inventory.release(orderId, `${orderId}:release`)).resolves.toMatchObject({ status: 'RELEASED', items: [] });
    await expect(ctx.services.inventory.reserve(orderId, [{ sku, quantity: 1 }], `${orderId}:reserve`)).rejects.toMatchObject({ code: 'fenced' });
    expect(await product(sku)).toMatchObject({ available: 4, reserved: 0 });
  });

  it('commits held stock as sold; a committed reservation cannot be released', async () => {
    const sku = await newProduct(4);
    const orderId = uniqueId('ord');
    await ctx.services.inventory.reserve(orderId, [{ sku, quantity: 1 }], `${orderId}:reserve`);
    await ctx.services.inventory.commit(orderId, `${orderId}:commit`);
    await ctx.services.inventory.commit(orderId, `${orderId}:commit`);

    expect(await product(sku)).toMatchObject({ available: 3, reserved: 0, sold: 1 });
    await expect(ctx.services.inventory.release(orderId, `${orderId}:release`)).rejects.toMatchObject({ code: 'reservation_settled' });
  });

  it('a hold past its TTL is expired by the sweeper: stock comes back, a late commit is refused', async () => {
    const sku = await newProduct(5);
    const orderId = uniqueId('ord');
    const shortLived = new InventoryService(ctx.db, 0.05);
    await shortLived.reserve(orderId, [{ sku, quantity: 2 }], `${orderId}:reserve`);
    expect(await shortLived.expireReservations(new Date(Date.now() - 60_000))).not.toContain(orderId);
    await new Promise((r) => setTimeout(r, 100));

    expect(await shortLived.expireReservations()).toContain(orderId);
    expect(await product(sku)).toMatchObject({ available: 5, reserved: 0 });
    expect(await shortLived.expireReservations()).not.toContain(orderId);
    await expect(shortLived.commit(orderId, `${orderId}:commit`)).rejects.toMatchObject({ code: 'reservation_settled' });
    // Releasing an expired hold is a no-op: its stock is already back.
    await expect(shortLived.release(orderId, `${orderId}:release`)).resolves.toMatchObject({ status: 'EXPIRED' });
    expect(await product(sku)).toMatchObject({ available: 5, reserved: 0 });
  });

  it('the database itself refuses negative stock', async () => {
    const sku = await newProduct(1);
    await expect(ctx.db.product.update({ where: { sku }, data: { available: { decrement: 2 } } })).rejects.toThrow(/check/i);
  });
});
