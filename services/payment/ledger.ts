// The payments ledger: one append-only row per movement of money (authorize,
// capture, void, refund, renew), keyed by the idempotency key of the call that
// made it. Entries are written in the transaction that changes the payment's
// status, so the two never disagree; the database refuses UPDATE and DELETE.
import type { LedgerEntry, LedgerEntryKind, Payment, Prisma } from '../../generated/prisma/client';
import { BusinessError } from '../errors';

export type { LedgerEntry };
type Tx = Prisma.TransactionClient;

/** Appends one movement of the whole payment amount. A renewal moves nothing, but records which hold it extended. */
export function record(tx: Tx, payment: Payment, kind: LedgerEntryKind, idempotencyKey: string): Promise<LedgerEntry> {
  return tx.ledgerEntry.create({
    data: { paymentId: payment.id, orderId: payment.orderId, kind, amount: payment.amount, currency: payment.currency, idempotencyKey },
  });
}

/**
 * True if this key's movement is already in the ledger, so the call is a replay.
 * A key that made another kind of movement, or moved another order's payment, is a caller bug.
 */
export async function isRecorded(tx: Tx, idempotencyKey: string, orderId: string, kinds: readonly LedgerEntryKind[]): Promise<boolean> {
  const entry = await tx.ledgerEntry.findUnique({ where: { idempotencyKey } });
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
