import type { Db } from '../../lib/db';
import { isUniqueViolation } from '../../lib/db';
import type { Payment } from '../../generated/prisma/client';
import { BusinessError, TransientError, keyReused } from '../errors';
import { FLAKY_FAILURES, TEST_TOKENS } from './test-tokens';

export type ChargeRequest = { orderId: string; token: string; amount: number; currency: string };
export type PaymentView = Pick<Payment, 'orderId' | 'status' | 'amount' | 'currency' | 'declineCode'> & {
  paymentId: string;
};

/**
 * A fake payment provider with the behaviour of a real one: idempotent
 * charges keyed by the caller, declines, transient timeouts, refunds.
 * It owns the `payments` schema.
 */
export class PaymentService {
  constructor(private readonly db: Db) {}

  async charge(req: ChargeRequest, idempotencyKey: string): Promise<PaymentView> {
    const existing = await this.db.payment.findUnique({ where: { orderId: req.orderId } });
    if (existing) return replayCharge(existing, idempotencyKey);

    await this.simulateNetwork(req.token, idempotencyKey);
    const declineCode = decide(req.token);
    let payment: Payment;
    try {
      payment = await this.db.payment.create({
        data: {
          orderId: req.orderId,
          idempotencyKey,
          token: req.token,
          amount: req.amount,
          currency: req.currency,
          status: declineCode ? 'DECLINED' : 'CHARGED',
          declineCode,
        },
      });
    } catch (err) {
      // A concurrent retry of the same charge got there first: one charge only.
      if (!isUniqueViolation(err)) throw err;
      const winner = await this.db.payment.findUnique({ where: { orderId: req.orderId } });
      if (!winner) throw keyReused(idempotencyKey);
      payment = winner;
    }
    return replayCharge(payment, idempotencyKey);
  }

  /**
   * Compensation: refund the order's charge. Safe to repeat. Refunding an order
   * that was never charged records a CANCELLED tombstone, so a charge that
   * arrives late (after the saga gave up) is refused instead of taking money.
   */
  async refund(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM payments.payments WHERE order_id = ${orderId} FOR UPDATE`;
      const payment = await tx.payment.findUnique({ where: { orderId } });
      if (!payment) {
        return toView(
          await tx.payment.create({
            data: { orderId, idempotencyKey, refundKey: idempotencyKey, token: '', amount: 0, currency: 'USD', status: 'CANCELLED' },
          }),
        );
      }
      if (payment.status !== 'CHARGED') return toView(payment);
      return toView(await tx.payment.update({ where: { orderId }, data: { status: 'REFUNDED', refundKey: idempotencyKey } }));
    });
  }

  async paymentFor(orderId: string): Promise<PaymentView | null> {
    const payment = await this.db.payment.findUnique({ where: { orderId } });
    return payment && toView(payment);
  }

  /** The provider counts calls per key, so tok_flaky's failures survive worker restarts. */
  private async simulateNetwork(token: string, idempotencyKey: string): Promise<void> {
    if (token !== TEST_TOKENS.FLAKY) return;
    const { calls } = await this.db.providerCall.upsert({
      where: { idempotencyKey },
      create: { idempotencyKey, calls: 1 },
      update: { calls: { increment: 1 }, lastCalledAt: new Date() },
    });
    if (calls <= FLAKY_FAILURES) {
      throw new TransientError(`Payment provider timed out (call ${calls} for this key)`);
    }
  }
}

/** The provider's verdict on a token: a decline code, or null to approve. */
function decide(token: string): string | null {
  if (token === TEST_TOKENS.VISA || token === TEST_TOKENS.FLAKY) return null;
  if (token === TEST_TOKENS.DECLINED) return 'card_declined';
  return 'invalid_token';
}

function replayCharge(payment: Payment, idempotencyKey: string): PaymentView {
  if (payment.status === 'CANCELLED' || payment.status === 'REFUNDED') {
    throw new BusinessError('fenced', `Order ${payment.orderId} was already compensated; not charging again`);
  }
  if (payment.idempotencyKey !== idempotencyKey) {
    throw new BusinessError('idempotency_conflict', `Order ${payment.orderId} already has a payment under another key`);
  }
  if (payment.status === 'DECLINED') {
    throw new BusinessError(payment.declineCode ?? 'card_declined', `Card declined (${payment.declineCode})`, {
      declineCode: payment.declineCode,
    });
  }
  return toView(payment);
}

function toView(p: Payment): PaymentView {
  return { paymentId: p.id, orderId: p.orderId, status: p.status, amount: p.amount, currency: p.currency, declineCode: p.declineCode };
}
