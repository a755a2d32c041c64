import { ShippingService } from '../../services/shipping/shipping-service';
import { TransientError } from '../../services/errors';
import { uniqueId, useServiceDb } from '../support/service-db';

const ctx = useServiceDb();
const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

describe('ShippingService', () => {
  it('books one shipment per idempotency key', async () => {
    const orderId = uniqueId('ord');
    const first = await ctx.services.shipping.createShipment(orderId, address, `${orderId}:ship`);
    const again = await ctx.services.shipping.createShipment(orderId, address, `${orderId}:ship`);

    expect(first.trackingNumber).toMatch(/^TRK[0-9A-F]{12}$/);
    expect(again).toEqual(first);
    expect(await ctx.db.shipment.count({ where: { orderId } })).toBe(1);
  });

  it('rejects country XX permanently and writes nothing', async () => {
    const orderId = uniqueId('ord');
    await expect(ctx.services.shipping.createShipment(orderId, { ...address, country: 'XX' }, `${orderId}:ship`)).rejects.toMatchObject({
      code: 'address_rejected',
    });
    expect(await ctx.db.shipment.count({ where: { orderId } })).toBe(0);
  });

  it('fails transiently at the configured carrier failure rate', async () => {
    const alwaysDown = new ShippingService(ctx.db, 1);
    const orderId = uniqueId('ord');
    await expect(alwaysDown.createShipment(orderId, address, `${orderId}:ship`)).rejects.toBeInstanceOf(TransientError);
    expect(await ctx.db.shipment.count({ where: { orderId } })).toBe(0);
  });

  it('cancels a shipment idempotently; a cancel before any shipment fences off a late one', async () => {
    const shipped = uniqueId('ord');
    await ctx.services.shipping.createShipment(shipped, address, `${shipped}:ship`);
    await ctx.services.shipping.cancelShipment(shipped, `${shipped}:cancel`);
    await expect(ctx.services.shipping.cancelShipment(shipped, `${shipped}:cancel`)).resolves.toMatchObject({ status: 'CANCELLED' });

    const never = uniqueId('ord');
    await ctx.services.shipping.cancelShipment(never, `${never}:cancel`);
    await expect(ctx.services.shipping.createShipment(never, address, `${never}:ship`)).rejects.toMatchObject({ code: 'fenced' });
    expect(await ctx.db.shipment.findMany({ where: { orderId: never } })).toEqual([expect.objectContaining({ status: 'CANCELLED', trackingNumber: null })]);
  });
});
