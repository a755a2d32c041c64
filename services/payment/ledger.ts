// The payments ledger: one append-only row per movement of money (authorize,
// capture, void, refund, renew), keyed by the idempotency key of the call that
// made it. Entries are written by the statement that changes the payment's
// status, so the two never disagree; the database refuses UPDATE and DELETE.
import { Prisma, type LedgerEntry, type LedgerEntryKind, type Payment, type PaymentStatus } from '../../generated/prisma/client';
import { BusinessError } from '../errors';

export type { LedgerEntry };
type Tx = Prisma.TransactionClient;

/** The columns of a payment row, named as the Prisma model names them. */
export const PAYMENT_COLUMNS = Prisma.sql`id, order_id AS "orderId", idempotency_key AS "idempotencyKey", token, amount, currency,
  status::text AS status, decline_code AS "declineCode", hold_seconds AS "holdSeconds", expires_at AS "expiresAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Appends one movement of the whole payment amount and applies its change to
 * the payment, in one statement: the two commit together or not at all. A
 * renewal moves nothing, but records which hold it extended.
 */
export async function move(
  tx: Tx,
  payment: Payment,
  kind: LedgerEntryKind,
  idempotencyKey: string,
  change: { status?: PaymentStatus; expiresAt?: Date },
): Promise<Payment> {
  const [moved] = await tx.$queryRaw<[Payment]>`
    WITH entry AS (
      INSERT INTO payments.ledger_entries (payment_id, order_id, kind, amount, currency, idempotency_key)
      VALUES (${payment.id}, ${payment.orderId}, ${kind}::payments."LedgerEntryKind", ${payment.amount}, ${payment.currency}, ${idempotencyKey})
    )
    UPDATE payments.payments
    SET status = ${change.status ?? payment.status}::payments."PaymentStatus", expires_at = ${change.expiresAt ?? payment.expiresAt}, updated_at = now()
    WHERE id = ${payment.id}
    RETURNING ${PAYMENT_COLUMNS}`;
  return moved;
}

/** The movement an idempotency key already made, as found beside the locked payment. */
export type Recorded = { orderId: string; kind: LedgerEntryKind } | null;

/**
 * True if this key's movement is already in the ledger, so the call is a replay.
 * A key that made another kind of movement, or moved another order's payment, is a caller bug.
 */
export function isReplay(entry: Recorded, idempotencyKey: string, orderId: string, kinds: readonly LedgerEntryKind[]): boolean {
  if (!entry) return false;
  if (entry.orderId !== orderId || !kinds.includes(entry.kind)) {
    throw new BusinessError('idempotency_conflict', `Idempotency key ${idempotencyKey} already made a ${entry.kind} for order ${entry.orderId}`);
  }
  return true;
}

/** An order's movements, oldest first (ids come from a sequence, in insert order). */
export function entriesFor(db: Pick<Tx, 'ledgerEntry'>, orderId: string): Promise<LedgerEntry[]> {
  return db.ledgerEntry.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
}
