-- AlterEnum
ALTER TYPE "inventory"."ReservationStatus" ADD VALUE 'EXPIRED';

-- AlterTable
ALTER TABLE "inventory"."reservations" ADD COLUMN     "expires_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "reservations_status_expires_at_idx" ON "inventory"."reservations"("status", "expires_at");
