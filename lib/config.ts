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
  NODE_ENV: z.string().optional(),
  // RFC 6750 b64token characters: anything else could never arrive in an Authorization header.
  // Empty counts as unset, as `OPERATOR_TOKEN: ${OPERATOR_TOKEN:-}` in docker-compose.yml passes it.
  OPERATOR_TOKEN: z
    .union([z.literal('').transform(() => undefined), z.string().regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'letters, digits and -._~+/ only (a Bearer token)')])
    .optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  // Metrics ports stay off the public API. 0 for the app ports picks a free one;
  // 0 for TEMPORAL_METRICS_PORT turns the SDK core's exporter off.
  METRICS_HOST: z.string().default('127.0.0.1'),
  API_METRICS_PORT: z.coerce.number().int().nonnegative().default(9463),
  WORKER_METRICS_PORT: z.coerce.number().int().nonnegative().default(9464),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().nonnegative().default(9465),
});

/**
 * The operator token that works on a developer machine when OPERATOR_TOKEN is
 * unset. It is public (README, `npm start` prints it), so production refuses it.
 */
export const DEV_OPERATOR_TOKEN = 'dev-operator-token';

/** Shorter secrets can be guessed; 16 characters is the least we accept in production. */
const MIN_PRODUCTION_TOKEN_LENGTH = 16;

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
  production: boolean;
  /** As configured; read it through operatorToken(), which applies the dev default and the production rules. */
  operatorToken: string | undefined;
  rateLimitPerMinute: number;
  metrics: { host: string; apiPort: number; workerPort: number; temporalCorePort: number };
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
    production: e.NODE_ENV === 'production',
    operatorToken: e.OPERATOR_TOKEN,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    metrics: { host: e.METRICS_HOST, apiPort: e.API_METRICS_PORT, workerPort: e.WORKER_METRICS_PORT, temporalCorePort: e.TEMPORAL_METRICS_PORT },
  };
}

/**
 * The token operator endpoints require. Only the API needs it, so the check
 * lives here rather than in loadConfig: the worker and the migration run in
 * production without one.
 */
export function operatorToken(config: Pick<Config, 'production' | 'operatorToken'>): string {
  const token = config.operatorToken;
  if (!config.production) return token ?? DEV_OPERATOR_TOKEN;
  if (!token) throw new Error('OPERATOR_TOKEN must be set when NODE_ENV=production (e.g. `openssl rand -hex 32`)');
  if (token === DEV_OPERATOR_TOKEN) throw new Error(`OPERATOR_TOKEN must not be the public dev default "${DEV_OPERATOR_TOKEN}" in production`);
  if (token.length < MIN_PRODUCTION_TOKEN_LENGTH) {
    throw new Error(`OPERATOR_TOKEN must be at least ${MIN_PRODUCTION_TOKEN_LENGTH} characters in production`);
  }
  return token;
}

export function databaseUrl(source: NodeJS.ProcessEnv = process.env): string {
  return loadConfig(source).databaseUrl;
}
