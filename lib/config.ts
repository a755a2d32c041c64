// All configuration comes from the environment, with defaults that work on a
// developer machine with a local PostgreSQL and the Temporal dev server.
import { z } from 'zod';

const env = z.object({
  DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/checkout'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('checkout'),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  TEMPORAL_UI_URL: z.string().optional(),
  PORT: z.coerce.number().int().nonnegative().default(3000),
  CARRIER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  ORDER_TTL_SECONDS: z.coerce.number().positive().default(900),
  SHIPPING_SLA_SECONDS: z.coerce.number().positive().default(300),
  PAYMENT_HOLD_SECONDS: z.coerce.number().positive().default(600),
  RESERVATION_TTL_SECONDS: z.coerce.number().positive().default(3600),
  FRAUD_TOTAL_LIMIT: z.coerce.number().int().positive().default(1_000_000),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
});

export type Config = {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  port: number;
  carrierFailureRate: number;
  dbPoolSize: number;
  /** Passed to each new saga, so the values it ran with are in its history. */
  deadlines: { orderTtlSeconds: number; shippingSlaSeconds: number; paymentHoldSeconds: number };
  reservationTtlSeconds: number;
  fraudTotalLimit: number;
  /** NATS with JetStream: the outbox relay publishes order facts there, the notification service consumes them. */
  natsUrl: string;
};

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const e = env.parse(source);
  const uiHost = e.TEMPORAL_ADDRESS.split(':')[0] || '127.0.0.1';
  return {
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://${uiHost}:${e.TEMPORAL_UI_PORT}`).replace(/\/$/, ''),
    },
    port: e.PORT,
    carrierFailureRate: e.CARRIER_FAILURE_RATE,
    dbPoolSize: e.DB_POOL_SIZE,
    deadlines: {
      orderTtlSeconds: e.ORDER_TTL_SECONDS,
      shippingSlaSeconds: e.SHIPPING_SLA_SECONDS,
      paymentHoldSeconds: e.PAYMENT_HOLD_SECONDS,
    },
    reservationTtlSeconds: e.RESERVATION_TTL_SECONDS,
    fraudTotalLimit: e.FRAUD_TOTAL_LIMIT,
    natsUrl: e.NATS_URL,
  };
}

export function databaseUrl(source: NodeJS.ProcessEnv = process.env): string {
  return loadConfig(source).databaseUrl;
}
