-- CreateEnum
CREATE TYPE "payments"."LedgerEntryKind" AS ENUM ('AUTHORIZE', 'CAPTURE', 'VOID', 'REFUND', 'RENEW');

-- AlterEnum
-- Edited by hand: the generated BEGIN/COMMIT are gone, because db:migrate already
-- runs each migration in one transaction (and `prisma migrate deploy` runs the
-- script as one implicit transaction); a COMMIT here would end that transaction
-- halfway. The USING clause maps the old statuses instead of failing on them:
-- a charge was an authorization captured at once, a cancellation a void.
CREATE TYPE "payments"."PaymentStatus_new" AS ENUM ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'DECLINED');
ALTER TABLE "payments"."payments" ALTER COLUMN "status" TYPE "payments"."PaymentStatus_new" USING (
  CASE "status"::text WHEN 'CHARGED' THEN 'CAPTURED' WHEN 'CANCELLED' THEN 'VOIDED' ELSE "status"::text END
)::"payments"."PaymentStatus_new";
ALTER TYPE "payments"."PaymentStatus" RENAME TO "PaymentStatus_old";
ALTER TYPE "payments"."PaymentStatus_new" RENAME TO "PaymentStatus";
DROP TYPE "payments"."PaymentStatus_old";

-- AlterTable
ALTER TABLE "payments"."payments" ADD COLUMN     "expires_at" TIMESTAMP(3),
ADD COLUMN     "hold_seconds" INTEGER,
ALTER COLUMN "token" DROP NOT NULL;

-- By hand: a former CANCELLED row is a tombstone, which never saw a card.
UPDATE "payments"."payments" SET "token" = NULL WHERE "status" = 'VOIDED';

-- CreateTable
CREATE TABLE "payments"."ledger_entries" (
    "id" SERIAL NOT NULL,
    "payment_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "kind" "payments"."LedgerEntryKind" NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_idempotency_key_key" ON "payments"."ledger_entries"("idempotency_key");

-- CreateIndex
CREATE INDEX "ledger_entries_order_id_idx" ON "payments"."ledger_entries"("order_id");

-- AddForeignKey
ALTER TABLE "payments"."ledger_entries" ADD CONSTRAINT "ledger_entries_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payments"."payments"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;

-- By hand: the movements of the payments made before the ledger existed, under
-- the keys the charge and refund calls used, so every payment's history adds up.
-- Moved above the refund_key drop below, which was generated first.
INSERT INTO "payments"."ledger_entries" ("payment_id", "order_id", "kind", "amount", "currency", "idempotency_key", "created_at")
SELECT "id", "order_id", e."kind"::"payments"."LedgerEntryKind", "amount", "currency", e."key", e."at"
FROM "payments"."payments",
LATERAL (VALUES
  (1, 'AUTHORIZE', "idempotency_key", "created_at"),
  (2, 'CAPTURE', "idempotency_key" || ':capture', "created_at"),
  (3, 'REFUND', COALESCE("refund_key", "idempotency_key" || ':refund'), "updated_at")
) AS e("step", "kind", "key", "at")
WHERE ("status" = 'CAPTURED' AND e."step" <= 2) OR ("status" = 'REFUNDED')
ORDER BY "created_at", "id", e."step";

-- DropIndex
DROP INDEX "payments"."payments_refund_key_key";

-- AlterTable
ALTER TABLE "payments"."payments" DROP COLUMN "refund_key";

-- Written by hand, not generated: the schema language can't say these, and
-- Prisma's diff ignores them (npm run db:check stays in sync).

-- AddCheckConstraint
-- Money is integer minor units in an ISO 4217 currency, never negative.
ALTER TABLE "payments"."ledger_entries" ADD CONSTRAINT "ledger_entries_amount_check" CHECK ("amount" >= 0);
ALTER TABLE "payments"."ledger_entries" ADD CONSTRAINT "ledger_entries_currency_check" CHECK ("currency" ~ '^[A-Z]{3}$');
ALTER TABLE "payments"."payments" ADD CONSTRAINT "payments_currency_check" CHECK ("currency" ~ '^[A-Z]{3}$');

-- CreateTrigger
-- The ledger is the payments' history: an entry, once written, is a fact. A
-- correction is a new entry (a void, a refund), never an edit, so the database
-- itself refuses UPDATE, DELETE and TRUNCATE, whatever code or session tries;
-- a bug or a hand-run query can't rewrite what money moved.
CREATE FUNCTION "payments"."ledger_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'payments.ledger_entries is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER "ledger_entries_no_update_or_delete" BEFORE UPDATE OR DELETE ON "payments"."ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "payments"."ledger_entries_append_only"();
CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "payments"."ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "payments"."ledger_entries_append_only"();
