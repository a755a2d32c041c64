-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "fraud";

-- CreateEnum
CREATE TYPE "orders"."Coordination" AS ENUM ('orchestration', 'choreography');

-- AlterTable
ALTER TABLE "orders"."orders" ADD COLUMN     "coordination" "orders"."Coordination" NOT NULL DEFAULT 'orchestration';

-- CreateTable
CREATE TABLE "orders"."saga_outbox" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "deliver_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMP(3),

    CONSTRAINT "saga_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders"."saga_events" (
    "event_id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "occurred_at" TIMESTAMP(3) NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "saga_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "fraud"."saga_outbox" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "deliver_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMP(3),

    CONSTRAINT "saga_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fraud"."saga_inbox" (
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "saga_inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "inventory"."saga_outbox" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "deliver_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMP(3),

    CONSTRAINT "saga_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inventory"."saga_inbox" (
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "saga_inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "payments"."saga_outbox" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "deliver_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMP(3),

    CONSTRAINT "saga_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payments"."saga_inbox" (
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "saga_inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "shipping"."saga_outbox" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "deliver_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMP(3),

    CONSTRAINT "saga_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shipping"."saga_inbox" (
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "saga_inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "saga_outbox_published_at_deliver_at_idx" ON "orders"."saga_outbox"("published_at", "deliver_at");

-- CreateIndex
CREATE INDEX "saga_events_order_id_occurred_at_idx" ON "orders"."saga_events"("order_id", "occurred_at");

-- CreateIndex
CREATE INDEX "saga_outbox_published_at_deliver_at_idx" ON "fraud"."saga_outbox"("published_at", "deliver_at");

-- CreateIndex
CREATE INDEX "saga_outbox_published_at_deliver_at_idx" ON "inventory"."saga_outbox"("published_at", "deliver_at");

-- CreateIndex
CREATE INDEX "saga_outbox_published_at_deliver_at_idx" ON "payments"."saga_outbox"("published_at", "deliver_at");

-- CreateIndex
CREATE INDEX "saga_outbox_published_at_deliver_at_idx" ON "shipping"."saga_outbox"("published_at", "deliver_at");

-- Added by hand: each saga outbox wakes its relay as its rows commit (LISTEN
-- saga_outbox, payload: the schema), so an event of the choreographed checkout
-- waits milliseconds for its relay, not a polling interval. Rows due later (a
-- timer) are found by the relay's poll.
CREATE FUNCTION "public"."notify_saga_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('saga_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END $$;
CREATE TRIGGER "saga_outbox_notify" AFTER INSERT ON "orders"."saga_outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."notify_saga_outbox"();
CREATE TRIGGER "saga_outbox_notify" AFTER INSERT ON "fraud"."saga_outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."notify_saga_outbox"();
CREATE TRIGGER "saga_outbox_notify" AFTER INSERT ON "inventory"."saga_outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."notify_saga_outbox"();
CREATE TRIGGER "saga_outbox_notify" AFTER INSERT ON "payments"."saga_outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."notify_saga_outbox"();
CREATE TRIGGER "saga_outbox_notify" AFTER INSERT ON "shipping"."saga_outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."notify_saga_outbox"();
