-- CreateTable
CREATE TABLE "shipping"."carrier_calls" (
    "idempotency_key" TEXT NOT NULL,
    "calls" INTEGER NOT NULL,

    CONSTRAINT "carrier_calls_pkey" PRIMARY KEY ("idempotency_key")
);
