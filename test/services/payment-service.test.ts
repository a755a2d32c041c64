import { BusinessError, TransientError } from '../../services/errors';
import { PaymentService } from '../../services/payment/payment-service';
import { uniqueId, useServiceDb } from '../support/service-db';

const ctx = useServiceDb();
const payments = () => ctx.services.payments;
const HOLD = 600;

const authorize = (orderId: string, token = 'tok_visa', key = `${orderId}:authorize`) =>
  payments().authorize({ orderId, token, amount: 2500, currency: 'USD', holdSeconds: HOLD }, key);
const ledger = async (orderId: string) => (await payments().ledgerFor(orderId)).map((e) => e.kind);
const rows = (orderId: string) => ctx.db.payment.findMany({ where: { orderId } });
const providerCalls = async (key: string) => (await ctx.db.providerCall.findUnique({ where: { idempotencyKey: key } }))?.calls ?? 0;

describe('PaymentService: authorize', () => {
  it('holds the amount until now + holdSeconds, once per key: one payment, one ledger entry', async () => {
    const orderId = uniqueId('ord');
    const before = Date.now();
    const first = await authorize(orderId);
    const again = await authorize(orderId);

    expect(first).toMatchObject({ orderId, status: 'AUTHORIZED', amount: 2500, currency: 'USD', declineCode: null });
    expect(first.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + HOLD * 1000);
    expect(first.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + HOLD * 1000);
    expect(again).toEqual(first);
    expect(await rows(orderId)).toHaveLength(1);
    expect(await payments().ledgerFor(orderId)).toEqual([
      expect.objectContaining({ kind: 'AUTHORIZE', amount: 2500, currency: 'USD', idempotencyKey: `${orderId}:authorize`, paymentId: first.paymentId }),
    ]);
    expect(await providerCalls(`${orderId}:authorize`)).toBe(1);
  });

  it('concurrent duplicate calls authorize once', async () => {
    const orderId = uniqueId('ord');
    const results = await Promise.all([authorize(orderId), authorize(orderId), authorize(orderId)]);

    expect(new Set(results.map((r) => r.paymentId)).size).toBe(1);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
  });

  it('refuses a second key for the same order, and a different amount under the same key', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    await expect(authorize(orderId, 'tok_visa', `${orderId}:other`)).rejects.toMatchObject({ code: 'idempotency_conflict' });
    await expect(
      payments().authorize({ orderId, token: 'tok_visa', amount: 9999, currency: 'USD', holdSeconds: HOLD }, `${orderId}:authorize`),
    ).rejects.toMatchObject({ code: 'idempotency_conflict' });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
  });

  it.each([
    ['a fractional amount', { amount: 25.5 }, 'invalid_amount'],
    ['a negative amount', { amount: -1 }, 'invalid_amount'],
    ['a lowercase currency', { currency: 'usd' }, 'invalid_currency'],
    ['a zero hold', { holdSeconds: 0 }, 'invalid_hold'],
  ])('rejects %s', async (_, change, code) => {
    const orderId = uniqueId('ord');
    const req = { orderId, token: 'tok_visa', amount: 2500, currency: 'USD', holdSeconds: HOLD, ...change };
    await expect(payments().authorize(req, `${orderId}:authorize`)).rejects.toMatchObject({ code });
    expect(await rows(orderId)).toHaveLength(0);
  });

  it.each([
    ['tok_declined', 'card_declined'],
    ['tok_nonsense', 'invalid_token'],
  ])('records %s as DECLINED (%s), with no ledger entry, and replays the decline', async (token, code) => {
    const orderId = uniqueId('ord');
    const declined = authorize(orderId, token);
    await expect(declined).rejects.toBeInstanceOf(BusinessError);
    await expect(declined).rejects.toMatchObject({ code });
    await expect(authorize(orderId, token)).rejects.toMatchObject({ code });

    expect(await payments().paymentFor(orderId)).toMatchObject({ status: 'DECLINED', declineCode: code, expiresAt: null });
    expect(await rows(orderId)).toHaveLength(1);
    expect(await ledger(orderId)).toEqual([]);
  });

  it('fails tok_flaky transiently on its first two calls per key, then authorizes', async () => {
    const orderId = uniqueId('ord');
    await expect(authorize(orderId, 'tok_flaky')).rejects.toBeInstanceOf(TransientError);
    await expect(authorize(orderId, 'tok_flaky')).rejects.toBeInstanceOf(TransientError);
    expect(await rows(orderId)).toHaveLength(0);
    await expect(authorize(orderId, 'tok_flaky')).resolves.toMatchObject({ status: 'AUTHORIZED' });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
  });

  it('fails tok_provider_down transiently on every call, counting each, and writes nothing', async () => {
    const orderId = uniqueId('ord');
    for (let call = 1; call <= 3; call++) {
      await expect(authorize(orderId, 'tok_provider_down')).rejects.toThrow(new TransientError(`Payment provider unavailable (call ${call} for this key)`));
    }
    expect(await rows(orderId)).toHaveLength(0);
    expect(await providerCalls(`${orderId}:authorize`)).toBe(3);
  });

  it('tok_lost_response: the first call commits and then fails; findByKey finds it, and the retry returns it without calling the provider', async () => {
    const orderId = uniqueId('ord');
    const key = `${orderId}:authorize`;
    expect(await payments().findByKey(key)).toBeNull();

    await expect(authorize(orderId, 'tok_lost_response')).rejects.toThrow(TransientError);
    const found = await payments().findByKey(key);
    expect(found).toMatchObject({ orderId, status: 'AUTHORIZED', amount: 2500 });

    await expect(authorize(orderId, 'tok_lost_response')).resolves.toEqual(found);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
    expect(await providerCalls(key)).toBe(1);
  });

  it('findByKey does not mistake a compensation tombstone for an authorization', async () => {
    const orderId = uniqueId('ord');
    await payments().reverse(orderId, `${orderId}:reverse`);
    expect(await payments().findByKey(`${orderId}:reverse`)).toBeNull();
  });
});

describe('PaymentService: capture and renew', () => {
  it('captures an authorization, idempotently', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    const captured = await payments().capture(orderId, `${orderId}:capture`);
    const again = await payments().capture(orderId, `${orderId}:capture`);

    expect(captured).toMatchObject({ status: 'CAPTURED', amount: 2500 });
    expect(again).toEqual(captured);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('cannot capture an expired authorization', async () => {
    const orderId = uniqueId('ord');
    const { expiresAt } = await authorize(orderId);
    const later = new PaymentService(ctx.db, () => new Date(expiresAt!.getTime() + 1));

    await expect(later.capture(orderId, `${orderId}:capture`)).rejects.toMatchObject({ code: 'authorization_expired' });
    await expect(later.renew(orderId, `${orderId}:renew`)).rejects.toMatchObject({ code: 'authorization_expired' });
    expect(await payments().paymentFor(orderId)).toMatchObject({ status: 'AUTHORIZED' });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE']);
    // The compensation still releases the lapsed hold.
    await expect(later.reverse(orderId, `${orderId}:reverse`)).resolves.toMatchObject({ status: 'VOIDED' });
  });

  it('cannot capture what is not authorized', async () => {
    const none = uniqueId('ord');
    await expect(payments().capture(none, `${none}:capture`)).rejects.toMatchObject({ code: 'payment_not_found' });

    const voided = uniqueId('ord');
    await authorize(voided);
    await payments().void(voided, `${voided}:void`);
    await expect(payments().capture(voided, `${voided}:capture`)).rejects.toMatchObject({ code: 'not_authorized' });
  });

  it('renew extends the hold by its length, once per key', async () => {
    const orderId = uniqueId('ord');
    const { expiresAt } = await authorize(orderId);
    const renewed = await payments().renew(orderId, `${orderId}:renew-1`);
    const again = await payments().renew(orderId, `${orderId}:renew-1`);
    const twice = await payments().renew(orderId, `${orderId}:renew-2`);

    expect(renewed.expiresAt!.getTime()).toBe(expiresAt!.getTime() + HOLD * 1000);
    expect(again).toEqual(renewed);
    expect(twice.expiresAt!.getTime()).toBe(expiresAt!.getTime() + 2 * HOLD * 1000);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'RENEW', 'RENEW']);
  });

  it('a renewed hold can be captured after the original expiry', async () => {
    const orderId = uniqueId('ord');
    const { expiresAt } = await authorize(orderId);
    await payments().renew(orderId, `${orderId}:renew`);
    const later = new PaymentService(ctx.db, () => new Date(expiresAt!.getTime() + 1));

    await expect(later.capture(orderId, `${orderId}:capture`)).resolves.toMatchObject({ status: 'CAPTURED' });
  });

  it('refuses a key that already made another kind of movement', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    await expect(payments().capture(orderId, `${orderId}:authorize`)).rejects.toMatchObject({ code: 'idempotency_conflict' });
  });
});

describe('PaymentService: void, refund, reverse', () => {
  it('void releases an authorization; refund gives a capture back; each idempotent', async () => {
    const held = uniqueId('ord');
    await authorize(held);
    await expect(payments().void(held, `${held}:void`)).resolves.toMatchObject({ status: 'VOIDED', amount: 2500 });
    await expect(payments().void(held, `${held}:void`)).resolves.toMatchObject({ status: 'VOIDED' });
    expect(await ledger(held)).toEqual(['AUTHORIZE', 'VOID']);

    const taken = uniqueId('ord');
    await authorize(taken);
    await payments().capture(taken, `${taken}:capture`);
    await expect(payments().refund(taken, `${taken}:refund`)).resolves.toMatchObject({ status: 'REFUNDED', amount: 2500 });
    await expect(payments().refund(taken, `${taken}:refund`)).resolves.toMatchObject({ status: 'REFUNDED' });
    expect(await ledger(taken)).toEqual(['AUTHORIZE', 'CAPTURE', 'REFUND']);
  });

  it('void refuses a capture and refund an uncaptured hold: reverse is the one that chooses', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    await expect(payments().refund(orderId, `${orderId}:refund`)).rejects.toMatchObject({ code: 'not_captured' });
    await payments().capture(orderId, `${orderId}:capture`);
    await expect(payments().void(orderId, `${orderId}:void`)).rejects.toMatchObject({ code: 'already_captured' });
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });

  it('reverse voids an authorization, and twice is once', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    const first = await payments().reverse(orderId, `${orderId}:reverse`);
    const again = await payments().reverse(orderId, `${orderId}:reverse`);

    expect(first).toMatchObject({ status: 'VOIDED', amount: 2500 });
    expect(again).toEqual(first);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
    // A late retry of the authorization itself learns it was undone.
    await expect(authorize(orderId)).rejects.toMatchObject({ code: 'fenced' });
  });

  it('reverse refunds a capture, and twice is once', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);
    await payments().capture(orderId, `${orderId}:capture`);
    const first = await payments().reverse(orderId, `${orderId}:reverse`);
    const again = await payments().reverse(orderId, `${orderId}:reverse`);

    expect(first).toMatchObject({ status: 'REFUNDED', amount: 2500 });
    expect(again).toEqual(first);
    expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'CAPTURE', 'REFUND']);
  });

  it('reverse leaves a declined payment alone', async () => {
    const orderId = uniqueId('ord');
    await expect(authorize(orderId, 'tok_declined')).rejects.toMatchObject({ code: 'card_declined' });
    await expect(payments().reverse(orderId, `${orderId}:reverse`)).resolves.toMatchObject({ status: 'DECLINED' });
    expect(await ledger(orderId)).toEqual([]);
  });

  it('reverse before any authorization writes a VOIDED tombstone that fences off a late authorize', async () => {
    const orderId = uniqueId('ord');
    await expect(payments().reverse(orderId, `${orderId}:reverse`)).resolves.toMatchObject({ status: 'VOIDED', amount: 0 });
    await expect(payments().reverse(orderId, `${orderId}:reverse`)).resolves.toMatchObject({ status: 'VOIDED', amount: 0 });
    await expect(authorize(orderId)).rejects.toMatchObject({ code: 'fenced' });

    expect(await rows(orderId)).toEqual([expect.objectContaining({ status: 'VOIDED', amount: 0 })]);
    expect(await ledger(orderId)).toEqual([]);
    expect(await providerCalls(`${orderId}:authorize`)).toBe(0); // fenced before it reaches the provider
  });

  it('a reverse racing an authorize: either the authorize is fenced, or its hold is voided', async () => {
    const orderId = uniqueId('ord');
    const [authorized] = await Promise.allSettled([authorize(orderId), payments().reverse(orderId, `${orderId}:reverse`)]);

    expect(await payments().paymentFor(orderId)).toMatchObject({ status: 'VOIDED' });
    if (authorized.status === 'rejected') expect(authorized.reason).toMatchObject({ code: 'fenced' });
    else expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
  });

  it('tok_refund_fails: authorizes and captures, but void, refund and reverse are rejected and nothing changes', async () => {
    const held = uniqueId('ord');
    await authorize(held, 'tok_refund_fails');
    await expect(payments().void(held, `${held}:void`)).rejects.toMatchObject({ code: 'reversal_rejected' });
    await expect(payments().reverse(held, `${held}:reverse`)).rejects.toMatchObject({ code: 'reversal_rejected' });
    expect(await payments().paymentFor(held)).toMatchObject({ status: 'AUTHORIZED' });
    expect(await ledger(held)).toEqual(['AUTHORIZE']);

    const taken = uniqueId('ord');
    await authorize(taken, 'tok_refund_fails');
    const captured = await payments().capture(taken, `${taken}:capture`);
    await expect(payments().refund(taken, `${taken}:refund`)).rejects.toMatchObject({ code: 'reversal_rejected' });
    await expect(payments().reverse(taken, `${taken}:reverse`)).rejects.toBeInstanceOf(BusinessError);
    expect(await payments().paymentFor(taken)).toEqual(captured);
    expect(await ledger(taken)).toEqual(['AUTHORIZE', 'CAPTURE']);
  });
});

describe('the ledger', () => {
  it('is append-only in the database: UPDATE, DELETE and TRUNCATE raise', async () => {
    const orderId = uniqueId('ord');
    await authorize(orderId);

    await expect(ctx.db.$executeRaw`UPDATE payments.ledger_entries SET amount = 1 WHERE order_id = ${orderId}`).rejects.toThrow(/append-only/);
    await expect(ctx.db.$executeRaw`DELETE FROM payments.ledger_entries WHERE order_id = ${orderId}`).rejects.toThrow(/append-only/);
    await expect(ctx.db.$executeRaw`TRUNCATE payments.ledger_entries CASCADE`).rejects.toThrow(/append-only/);
    expect(await payments().ledgerFor(orderId)).toEqual([expect.objectContaining({ kind: 'AUTHORIZE', amount: 2500 })]);
  });

  it('refuses a negative amount', async () => {
    const orderId = uniqueId('ord');
    const { paymentId } = await authorize(orderId);
    await expect(
      ctx.db.ledgerEntry.create({
        data: { paymentId, orderId, kind: 'REFUND', amount: -1, currency: 'USD', idempotencyKey: `${orderId}:negative` },
      }),
    ).rejects.toThrow(/ledger_entries_amount_check/);
  });
});
