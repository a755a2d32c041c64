import { TransientError } from '../../services/errors';
import { uniqueId, useServiceDb } from '../support/service-db';

const ctx = useServiceDb();
const charge = (orderId: string, token: string) =>
  ctx.services.payments.charge({ orderId, token, amount: 2500, currency: 'USD' }, `${orderId}:charge`);

describe('PaymentService', () => {
  it('charges tok_visa once per idempotency key', async () => {
    const orderId = uniqueId('ord');
    const first = await charge(orderId, 'tok_visa');
    const again = await charge(orderId, 'tok_visa');

    expect(first).toMatchObject({ status: 'CHARGED', amount: 2500, currency: 'USD' });
    expect(again).toEqual(first);
    expect(await ctx.db.payment.count({ where: { orderId } })).toBe(1);
  });

  it('declines tok_declined as a business failure, and keeps declining it', async () => {
    const orderId = uniqueId('ord');
    await expect(charge(orderId, 'tok_declined')).rejects.toMatchObject({ code: 'card_declined' });
    await expect(charge(orderId, 'tok_declined')).rejects.toMatchObject({ code: 'card_declined' });
    expect(await ctx.db.payment.findMany({ where: { orderId } })).toEqual([expect.objectContaining({ status: 'DECLINED' })]);
  });

  it('fails tok_flaky transiently twice per key, then charges it', async () => {
    const orderId = uniqueId('ord');
    await expect(charge(orderId, 'tok_flaky')).rejects.toBeInstanceOf(TransientError);
    await expect(charge(orderId, 'tok_flaky')).rejects.toBeInstanceOf(TransientError);
    expect(await ctx.db.payment.count({ where: { orderId } })).toBe(0);
    await expect(charge(orderId, 'tok_flaky')).resolves.toMatchObject({ status: 'CHARGED' });
  });

  it('refunds a charge, idempotently', async () => {
    const orderId = uniqueId('ord');
    await charge(orderId, 'tok_visa');
    await ctx.services.payments.refund(orderId, `${orderId}:refund`);
    const again = await ctx.services.payments.refund(orderId, `${orderId}:refund`);

    expect(again).toMatchObject({ status: 'REFUNDED', amount: 2500 });
    expect(await ctx.db.payment.count({ where: { orderId } })).toBe(1);
  });

  it('a refund before any charge fences off a late charge', async () => {
    const orderId = uniqueId('ord');
    await expect(ctx.services.payments.refund(orderId, `${orderId}:refund`)).resolves.toMatchObject({ status: 'CANCELLED', amount: 0 });
    await expect(charge(orderId, 'tok_visa')).rejects.toMatchObject({ code: 'fenced' });
    expect(await ctx.db.payment.findMany({ where: { orderId } })).toEqual([expect.objectContaining({ status: 'CANCELLED' })]);
  });
});
