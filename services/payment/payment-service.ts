import type { Db } from '../../lib/db';
import { isUniqueViolation } from '../../lib/db';
import { randomUUID } from 'node:crypto';
import type { LedgerEntryKind, Payment, PaymentStatus, Prisma } from '../../generated/prisma/client';
import { BusinessError, TransientError, keyReused } from '../errors';
import { PAYMENT_COLUMNS, type LedgerEntry, type Recorded, entriesFor, isReplay, move } from './ledger';
import { FLAKY_FAILURES, TEST_TOKENS, declineCodeFor, rejectsReversal } from './test-tokens';

/** Amounts are integer minor units (cents) of an ISO 4217 currency. */
export type AuthorizeRequest = { orderId: string; token: string; amount: number; currency: string; holdSeconds: number };
export type PaymentView = Pick<Payment, 'orderId' | 'status' | 'amount' | 'currency' | 'declineCode' | 'expiresAt'> & {
  paymentId: string;
};
export type { LedgerEntry };

type Tx = Prisma.TransactionClient;
type Remedy = 'VOID' | 'REFUND';

/** ISO 4217's code for "no currency": a tombstone never held money. */
const NO_CURRENCY = 'XXX';

/** What undoes a payment in each state; null: nothing is held or taken, so nothing to undo. */
const REMEDY: Record<PaymentStatus, Remedy | null> = {
  AUTHORIZED: 'VOID',
  CAPTURED: 'REFUND',
  DECLINED: null,
  VOIDED: null,
  REFUNDED: null,
};

/**
 * A fake payment provider that behaves like a real one: authorize holds money
 * for a while, capture takes it, void releases a hold, refund gives a capture
 * back. Every call is idempotent by the caller's key, every movement goes to
 * the ledger in the same transaction, and the card token picks the sandbox
 * behaviour (see test-tokens.ts). It owns the `payments` schema.
 */
export class PaymentService {
  constructor(
    private readonly db: Db,
    /** The provider's clock; a test moves it forward to see a hold expire. */
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Holds the amount on the card for holdSeconds. A decline is recorded, and replays as the same BusinessError. */
  async authorize(req: AuthorizeRequest, idempotencyKey: string): Promise<PaymentView> {
    checkRequest(req);
    // Before calling the provider: a retry of a call that already went through
    // (even one whose response was lost) must neither reach it nor write again.
    const existing = await this.paymentOf(req.orderId);
    if (existing) return replayAuthorize(existing, req, idempotencyKey);

    const call = await this.callProvider(req.token, idempotencyKey);
    const declineCode = declineCodeFor(req.token);
    let payment: Payment | undefined;
    try {
      // One statement: the payment and its ledger entry (a decline moves no
      // money, so it has none). When the order has a payment already (a
      // concurrent retry, or a compensation's tombstone), it writes nothing.
      [payment] = await this.db.$queryRaw<Payment[]>`
        WITH created AS (
          INSERT INTO payments.payments (id, order_id, idempotency_key, token, amount, currency, status, decline_code, hold_seconds, expires_at, updated_at)
          VALUES (${randomUUID()}, ${req.orderId}, ${idempotencyKey}, ${req.token}, ${req.amount}, ${req.currency},
                  ${declineCode ? 'DECLINED' : 'AUTHORIZED'}::payments."PaymentStatus", ${declineCode},
                  ${declineCode ? null : req.holdSeconds}::int, ${declineCode ? null : addSeconds(this.now(), req.holdSeconds)}::timestamp(3), now())
          ON CONFLICT DO NOTHING
          RETURNING *
        ), entry AS (
          INSERT INTO payments.ledger_entries (payment_id, order_id, kind, amount, currency, idempotency_key)
          SELECT id, order_id, 'AUTHORIZE', amount, currency, idempotency_key FROM created WHERE status = 'AUTHORIZED'
        )
        SELECT ${PAYMENT_COLUMNS} FROM created`;
    } catch (err) {
      // The key moved another order's money already: the ledger refused it.
      if (!isUniqueViolation(err)) throw err;
    }
    if (!payment) {
      // Someone else's payment is there: answer with what it wrote. One authorization only.
      const winner = await this.paymentOf(req.orderId);
      if (!winner) throw keyReused(idempotencyKey);
      return replayAuthorize(winner, req, idempotencyKey);
    }
    if (req.token === TEST_TOKENS.LOST_RESPONSE && call === 1) {
      throw new TransientError('Payment provider: connection reset after commit');
    }
    return replayAuthorize(payment, req, idempotencyKey);
  }

  /** The payment an authorize call with this key created, or null: lets a caller check before retrying. */
  async findByKey(idempotencyKey: string): Promise<PaymentView | null> {
    const payment = await this.db.payment.findUnique({ where: { idempotencyKey } });
    // A tombstone carries a compensation's key, not an authorization's.
    return payment && payment.token !== null ? toView(payment) : null;
  }

  /** Takes the held money. An expired hold can't be captured: the saga must compensate. */
  async capture(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.transition(orderId, idempotencyKey, ['CAPTURE'], async (tx, payment) => {
      if (payment?.status === 'CAPTURED') return payment;
      return move(tx, this.liveHold(orderId, payment), 'CAPTURE', idempotencyKey, { status: 'CAPTURED' });
    });
  }

  /** Extends a live hold by its own length, so a slow saga can still capture. */
  async renew(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.transition(orderId, idempotencyKey, ['RENEW'], async (tx, payment) => {
      const held = this.liveHold(orderId, payment);
      return move(tx, held, 'RENEW', idempotencyKey, { expiresAt: addSeconds(held.expiresAt!, held.holdSeconds!) });
    });
  }

  /** Releases an uncaptured hold. */
  async void(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.undo(orderId, idempotencyKey, 'VOID');
  }

  /** Gives a captured payment back. */
  async refund(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.undo(orderId, idempotencyKey, 'REFUND');
  }

  /** The saga's compensation: voids a hold or refunds a capture, whichever the payment reached. */
  async reverse(orderId: string, idempotencyKey: string): Promise<PaymentView> {
    return this.undo(orderId, idempotencyKey, null);
  }

  async paymentFor(orderId: string): Promise<PaymentView | null> {
    const payment = await this.paymentOf(orderId);
    return payment && toView(payment);
  }

  private async paymentOf(orderId: string): Promise<Payment | null> {
    const [payment] = await this.db.$queryRaw<Payment[]>`SELECT ${PAYMENT_COLUMNS} FROM payments.payments WHERE order_id = ${orderId}`;
    return payment ?? null;
  }

  /** Every payment with its movements, oldest first, for the invariant auditor. */
  async allPayments(): Promise<(PaymentView & { ledger: Pick<LedgerEntry, 'kind' | 'amount'>[] })[]> {
    const rows = await this.db.payment.findMany({ include: { ledger: { orderBy: { id: 'asc' } } } });
    return rows.map(({ ledger, ...payment }) => ({ ...toView(payment), ledger: ledger.map(({ kind, amount }) => ({ kind, amount })) }));
  }

  /** The order's movements, oldest first. */
  async ledgerFor(orderId: string): Promise<LedgerEntry[]> {
    return entriesFor(this.db, orderId);
  }

  /**
   * Undoes whatever the payment reached; `only` limits it to one remedy (void
   * or refund). Safe to repeat, and safe before any authorization: then it
   * writes a VOIDED tombstone, which fences off an authorize arriving late.
   */
  private async undo(orderId: string, idempotencyKey: string, only: Remedy | null): Promise<PaymentView> {
    return this.transition(orderId, idempotencyKey, only ? [only] : ['VOID', 'REFUND'], async (tx, payment) => {
      if (!payment) {
        const [tombstone] = await tx.$queryRaw<[Payment]>`
          INSERT INTO payments.payments (id, order_id, idempotency_key, token, amount, currency, status, updated_at)
          VALUES (${randomUUID()}, ${orderId}, ${idempotencyKey}, NULL, 0, ${NO_CURRENCY}, 'VOIDED', now())
          RETURNING ${PAYMENT_COLUMNS}`;
        return tombstone;
      }
      const remedy = REMEDY[payment.status];
      if (!remedy) return payment;
      if (only && remedy !== only) {
        const [code, what] = only === 'VOID' ? ['already_captured', 'captured; refund it'] : ['not_captured', 'not captured; void it'];
        throw new BusinessError(code, `Payment for order ${orderId} is ${what}`, { status: payment.status });
      }
      if (rejectsReversal(payment.token)) {
        throw new BusinessError('reversal_rejected', `Payment provider refused to ${remedy.toLowerCase()} the payment for order ${orderId}`);
      }
      return move(tx, payment, remedy, idempotencyKey, { status: remedy === 'VOID' ? 'VOIDED' : 'REFUNDED' });
    });
  }

  /**
   * One change to an order's payment. The row lock makes concurrent calls for
   * the order take turns; a key already in the ledger replays, writing nothing.
   */
  private async transition(
    orderId: string,
    idempotencyKey: string,
    kinds: readonly LedgerEntryKind[],
    change: (tx: Tx, payment: Payment | null) => Promise<Payment>,
  ): Promise<PaymentView> {
    const once = () =>
      this.db.$transaction(async (tx) => {
        // The payment, locked, and what this key already did, in one round trip.
        const [locked] = await tx.$queryRaw<(Payment & { recorded: Recorded })[]>`
          SELECT ${PAYMENT_COLUMNS},
                 (SELECT json_build_object('orderId', e.order_id, 'kind', e.kind)
                  FROM payments.ledger_entries e WHERE e.idempotency_key = ${idempotencyKey}) AS recorded
          FROM payments.payments
          WHERE order_id = ${orderId}
          FOR UPDATE`;
        const { recorded, ...payment } = locked ?? { recorded: null };
        if (locked && isReplay(recorded, idempotencyKey, orderId, kinds)) return toView(payment as Payment);
        return toView(await change(tx, locked ? (payment as Payment) : null));
      });
    try {
      return await once();
    } catch (err) {
      // A concurrent call wrote the same tombstone or ledger key first (there
      // was no row to lock); ours rolled back, and running again sees theirs.
      if (!isUniqueViolation(err)) throw err;
      try {
        return await once();
      } catch (again) {
        if (isUniqueViolation(again)) throw keyReused(idempotencyKey);
        throw again;
      }
    }
  }

  /** The payment if it holds money that can still be captured; otherwise why not. */
  private liveHold(orderId: string, payment: Payment | null): Payment {
    if (!payment) throw new BusinessError('payment_not_found', `No payment for order ${orderId}`);
    if (payment.status !== 'AUTHORIZED') {
      throw new BusinessError('not_authorized', `Payment for order ${orderId} is ${payment.status}`, { status: payment.status });
    }
    if (payment.expiresAt! <= this.now()) {
      throw new BusinessError('authorization_expired', `Authorization for order ${orderId} expired at ${payment.expiresAt!.toISOString()}`);
    }
    return payment;
  }

  /**
   * The provider counts authorization calls per key: tok_flaky's failures
   * survive worker restarts, tok_lost_response loses only the first response,
   * and a test can see that a retry never reached the provider, or how many
   * tok_provider_down turned away.
   */
  private async callProvider(token: string, idempotencyKey: string): Promise<number> {
    const [{ calls }] = await this.db.$queryRaw<[{ calls: number }]>`
      INSERT INTO payments.provider_calls (idempotency_key, calls) VALUES (${idempotencyKey}, 1)
      ON CONFLICT (idempotency_key) DO UPDATE SET calls = provider_calls.calls + 1, last_called_at = now()
      RETURNING calls`;
    if (token === TEST_TOKENS.FLAKY && calls <= FLAKY_FAILURES) {
      throw new TransientError(`Payment provider timed out (call ${calls} for this key)`);
    }
    if (token === TEST_TOKENS.PROVIDER_DOWN) throw new TransientError(`Payment provider unavailable (call ${calls} for this key)`);
    return calls;
  }
}

function checkRequest({ amount, currency, holdSeconds }: AuthorizeRequest): void {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new BusinessError('invalid_amount', `Amount must be a non-negative integer of minor units, got ${amount}`);
  }
  if (!/^[A-Z]{3}$/.test(currency)) throw new BusinessError('invalid_currency', `Currency must be an ISO 4217 code, got ${currency}`);
  if (!Number.isSafeInteger(holdSeconds) || holdSeconds <= 0) {
    throw new BusinessError('invalid_hold', `holdSeconds must be a positive integer, got ${holdSeconds}`);
  }
}

/** The answer to an authorize call for an order that already has a payment. */
function replayAuthorize(payment: Payment, req: AuthorizeRequest, idempotencyKey: string): PaymentView {
  // Even under the authorization's own key: a caller that learns of a
  // compensated payment only now must hear that it was undone, not "authorized".
  if (payment.status === 'VOIDED' || payment.status === 'REFUNDED') {
    throw new BusinessError('fenced', `Order ${payment.orderId} was already compensated; not authorizing again`);
  }
  if (payment.idempotencyKey !== idempotencyKey) {
    throw new BusinessError('idempotency_conflict', `Order ${payment.orderId} already has a payment under another key`);
  }
  if (payment.amount !== req.amount || payment.currency !== req.currency) {
    throw new BusinessError(
      'idempotency_conflict',
      `Key ${idempotencyKey} authorized ${payment.amount} ${payment.currency}, not ${req.amount} ${req.currency}`,
    );
  }
  if (payment.status === 'DECLINED') {
    throw new BusinessError(payment.declineCode ?? 'card_declined', `Card declined (${payment.declineCode})`, {
      declineCode: payment.declineCode,
    });
  }
  return toView(payment);
}

const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);

function toView(p: Payment): PaymentView {
  return {
    paymentId: p.id,
    orderId: p.orderId,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    declineCode: p.declineCode,
    expiresAt: p.expiresAt,
  };
}
