-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "inventory";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "orders";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "payments";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "shipping";

-- CreateEnum
CREATE TYPE "orders"."OrderStatus" AS ENUM ('PENDING', 'COMPLETED', 'COMPENSATED', 'FAILED');

-- CreateEnum
CREATE TYPE "inventory"."ReservationStatus" AS ENUM ('HELD', 'COMMITTED', 'RELEASED');

-- CreateEnum
CREATE TYPE "payments"."PaymentStatus" AS ENUM ('CHARGED', 'DECLINED', 'REFUNDED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "shipping"."ShipmentStatus" AS ENUM ('CREATED', 'CANCELLED');

-- CreateTable
CREATE TABLE "orders"."orders" (
    "id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "status" "orders"."OrderStatus" NOT NULL DEFAULT 'PENDING',
    "total" INTEGER NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "failed_step" TEXT,
    "failure_reason" TEXT,
    "idempotency_key" TEXT NOT NULL,
    "settle_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders"."order_lines" (
    "order_id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price" INTEGER NOT NULL,

    CONSTRAINT "order_lines_pkey" PRIMARY KEY ("order_id","sku")
);

-- CreateTable
CREATE TABLE "inventory"."products" (
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price" INTEGER NOT NULL,
    "available" INTEGER NOT NULL,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "sold" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("sku")
);

-- CreateTable
CREATE TABLE "inventory"."reservations" (
    "order_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "status" "inventory"."ReservationStatus" NOT NULL,
    "settle_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "reservations_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "inventory"."reservation_lines" (
    "order_id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,

    CONSTRAINT "reservation_lines_pkey" PRIMARY KEY ("order_id","sku")
);

-- CreateTable
CREATE TABLE "payments"."payments" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "status" "payments"."PaymentStatus" NOT NULL,
    "decline_code" TEXT,
    "refund_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payments"."provider_calls" (
    "idempotency_key" TEXT NOT NULL,
    "calls" INTEGER NOT NULL,
    "last_called_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_calls_pkey" PRIMARY KEY ("idempotency_key")
);

-- CreateTable
CREATE TABLE "shipping"."shipments" (
    "order_id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "status" "shipping"."ShipmentStatus" NOT NULL,
    "tracking_number" TEXT,
    "carrier" TEXT,
    "country" TEXT,
    "cancel_key" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "shipments_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "orders_idempotency_key_key" ON "orders"."orders"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "orders_settle_key_key" ON "orders"."orders"("settle_key");

-- CreateIndex
CREATE INDEX "orders_customer_id_idx" ON "orders"."orders"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "reservations_idempotency_key_key" ON "inventory"."reservations"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "reservations_settle_key_key" ON "inventory"."reservations"("settle_key");

-- CreateIndex
CREATE UNIQUE INDEX "payments_order_id_key" ON "payments"."payments"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "payments_idempotency_key_key" ON "payments"."payments"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "payments_refund_key_key" ON "payments"."payments"("refund_key");

-- CreateIndex
CREATE UNIQUE INDEX "shipments_idempotency_key_key" ON "shipping"."shipments"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "shipments_tracking_number_key" ON "shipping"."shipments"("tracking_number");

-- CreateIndex
CREATE UNIQUE INDEX "shipments_cancel_key_key" ON "shipping"."shipments"("cancel_key");

-- AddForeignKey
ALTER TABLE "orders"."order_lines" ADD CONSTRAINT "order_lines_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "inventory"."reservations"("order_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Written by hand, not generated: the Prisma schema language cannot express CHECK
-- constraints, and Prisma's diff ignores them (npm run db:check stays in sync).
-- Stock, money and quantities can never go negative, whatever code path writes them.

-- AddCheckConstraint
ALTER TABLE "inventory"."products" ADD CONSTRAINT "products_available_check" CHECK ("available" >= 0);
ALTER TABLE "inventory"."products" ADD CONSTRAINT "products_reserved_check" CHECK ("reserved" >= 0);
ALTER TABLE "inventory"."products" ADD CONSTRAINT "products_sold_check" CHECK ("sold" >= 0);
ALTER TABLE "inventory"."products" ADD CONSTRAINT "products_price_check" CHECK ("price" >= 0);

-- AddCheckConstraint
ALTER TABLE "orders"."orders" ADD CONSTRAINT "orders_total_check" CHECK ("total" >= 0);

-- AddCheckConstraint
ALTER TABLE "orders"."order_lines" ADD CONSTRAINT "order_lines_quantity_check" CHECK ("quantity" > 0);

-- AddCheckConstraint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_quantity_check" CHECK ("quantity" > 0);

-- AddCheckConstraint
ALTER TABLE "payments"."payments" ADD CONSTRAINT "payments_amount_check" CHECK ("amount" >= 0);
