-- AlterTable
ALTER TABLE "inventory"."products" ADD COLUMN     "received" INTEGER NOT NULL DEFAULT 0;

-- Backfill: nothing left stock before this column existed, so what was received
-- is what is still accounted for.
UPDATE "inventory"."products" SET "received" = "available" + "reserved" + "sold";
