// All configuration comes from the environment, with defaults that work on a
// developer machine with a local PostgreSQL and the Temporal dev server.
//
// The saga's deadlines and the services' tunables stay undefined when unset:
// their owners hold the defaults (DEFAULT_DEADLINES in workflows/checkout-types.ts,
// SERVICE_DEFAULTS in services/defaults.ts), and lib/ imports nothing of the app.
import { z } from 'zod';
import { parsePayloadKey, payloadKey, type PayloadKey } from './payload-codec';

/**
 * A mistake in the environment: its message names the variable and says what
 * to do, so entry points print it as one line, without a stack.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const KEY_HINT = 'must be 32 bytes: 64 hex characters, or base64 of 32 bytes (`openssl rand -base64 32`)';

/** A 32-byte key; empty counts as unset. The message never repeats the value: it is a secret. */
const keySchema = z.string().transform((text, ctx) => {
  if (text === '') return undefined;
  const key = parsePayloadKey(text);
  if (!key) {
    ctx.addIssue({ code: 'custom', message: KEY_HINT });
    return z.NEVER;
  }
  return payloadKey(key);
});

/** Older keys, comma-separated, kept for decrypting what they encrypted. */
const previousKeysSchema = z.string().transform((text, ctx) => {
  const keys: PayloadKey[] = [];
  for (const [i, part] of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .entries()) {
    const key = parsePayloadKey(part);
    if (!key) ctx.addIssue({ code: 'custom', message: `key ${i + 1} ${KEY_HINT}` });
    else keys.push(payloadKey(key));
  }
  return keys;
});

/**
 * A token for an Authorization: Bearer header: RFC 6750 b64token characters,
 * as anything else could never arrive in one. Empty counts as unset, as
 * `OPERATOR_TOKEN: ${OPERATOR_TOKEN:-}` in docker-compose.yml passes it.
 */
const bearerToken = (message: string) => z.union([z.literal('').transform(() => undefined), z.string().regex(/^[A-Za-z0-9\-._~+/]+=*$/, message)]).optional();

/**
 * More would not help on one machine: each process is a Node.js heap and a
 * database pool of its own, and the task queue is shared however many poll it.
 */
export const MAX_WORKER_PROCESSES = 16;

const env = z.object({
  DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/checkout'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('checkout'),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  TEMPORAL_UI_URL: z.string().optional(),
  PORT: z.coerce.number().int().nonnegative().default(3000),
  CARRIER_FAILURE_RATE: z.coerce.number().min(0).max(1).optional(),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  ORDER_TTL_SECONDS: z.coerce.number().positive().optional(),
  SHIPPING_SLA_SECONDS: z.coerce.number().positive().optional(),
  PAYMENT_HOLD_SECONDS: z.coerce.number().positive().optional(),
  RESERVATION_TTL_SECONDS: z.coerce.number().positive().optional(),
  SAGA_STALLED_AFTER_SECONDS: z.coerce.number().positive().optional(),
  FRAUD_TOTAL_LIMIT: z.coerce.number().int().positive().optional(),
  // A typo (`prod`, `dev`) or jest's `test` must not quietly relax the checks
  // that only an explicit `development` relaxes.
  NODE_ENV: z
    .enum(['production', 'development'], { error: (issue) => `must be production or development (unset counts as production), not "${issue.input}"` })
    .optional(),
  OPERATOR_TOKEN: bearerToken('letters, digits and -._~+/ only (a Bearer token)'),
  // Empty counts as unset, as docker-compose.yml passes it.
  ORDER_SECRET_KEY: z
    .string()
    .transform((text) => text || undefined)
    .optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  // How long the API waits for Temporal per request (api/checkout-client.ts, TemporalTimeouts).
  CANCEL_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  READ_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  START_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (a JetStream stream name)')
    .default('ORDERS'),
  TEMPORAL_PAYLOAD_KEY: keySchema.optional(),
  TEMPORAL_PAYLOAD_KEY_PREVIOUS: previousKeysSchema.optional(),
  CODEC_PORT: z.coerce.number().int().nonnegative().default(8888),
  // `none` switches the codec endpoint's token check off (development only).
  CODEC_AUTH_TOKEN: bearerToken('letters, digits and -._~+/ only (a Bearer token), or none'),
  // Origins the codec endpoint allows (CORS), comma-separated; the Temporal UI's by default.
  CODEC_CORS_ORIGINS: z.string().optional(),
  // Metrics ports stay off the public API. 0 for the app ports picks a free one;
  // 0 for TEMPORAL_METRICS_PORT turns the SDK core's exporter off.
  METRICS_HOST: z.string().default('127.0.0.1'),
  API_METRICS_PORT: z.coerce.number().int().nonnegative().default(9463),
  WORKER_METRICS_PORT: z.coerce.number().int().nonnegative().default(9464),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().nonnegative().default(9465),
  // How many worker processes `npm start` runs. Only the launcher reads it: a
  // worker is one process whatever this says (compose scales with replicas).
  WORKER_PROCESSES: z.coerce.number().int().min(1).max(MAX_WORKER_PROCESSES).default(1),
  // A cached checkout costs the worker about 0.35 MiB (npm run bench -- --memory,
  // bench/README.md "Memory"): 1,000 of them add about 350 MiB to a worker of
  // about 450 MiB, which fits a 1 GiB container. The SDK's own default follows
  // the V8 heap limit, not the container's (about 2,300 on a 4 GiB heap, 0.8 GiB).
  // Empty counts as unset, as docker-compose.yml passes it: coerced, it would
  // be 0, which turns the SDK's workflow cache (and sticky execution) off.
  // The SDK takes 1 for 2, with a warning: refused here instead.
  MAX_CACHED_WORKFLOWS: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number()
      .int()
      .nonnegative()
      .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
      .default(1000),
  ),
  // How long a workflow task waits on the worker's sticky queue before the
  // server hands it to any worker. The SDK's 10 s is what a saga loses when its
  // worker dies: every task sent to the dead worker waits that long. 3 s took
  // a fresh worker through the sagas a killed one left about 1.75 times as
  // fast (npm run bench -- takeover, bench/README.md "Taking back open sagas").
  STICKY_QUEUE_TIMEOUT_SECONDS: z.coerce.number().positive().max(60).default(3),
  // Worker Versioning (docs/deploys.md): the worker runs as version BUILD_ID of
  // deployment DEPLOYMENT_NAME, and each checkout stays pinned to the build that
  // started it. BUILD_ID defaults to a hash of the workflow code; a retired
  // build kept in builds/<BUILD_ID>.js runs that build's code instead.
  DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, - and _ only')
    .default('checkout'),
  BUILD_ID: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ., - and _ only')
      .optional(),
  ),
  // Whether a worker makes its build the deployment's current one once it polls:
  // what a developer restarting `npm start` wants. A production rollout turns it
  // off and promotes (or ramps) the build itself: npm run ops -- deploy.
  PROMOTE_BUILD_ON_START: z.enum(['true', 'false']).default('true'),
});

/**
 * The operator token that works on a developer machine when OPERATOR_TOKEN is
 * unset. It is public (docs/http-api.md, `npm start` prints it), so only development accepts it.
 */
export const DEV_OPERATOR_TOKEN = 'dev-operator-token';

/** Shorter secrets can be guessed; 16 characters is the least we accept outside development. */
const MIN_TOKEN_LENGTH = 16;

/**
 * The key that derives each order's secret when ORDER_SECRET_KEY is unset.
 * Public, like the dev operator token: anyone who knows it can read any order,
 * so only development accepts it.
 */
export const DEV_ORDER_SECRET_KEY = 'dev-order-secret-key';

/** An HMAC key is as strong as it is long: 32 characters (`openssl rand -hex 32` gives 64). */
const MIN_ORDER_SECRET_KEY_LENGTH = 32;

export type Config = {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  port: number;
  /** Unset: SERVICE_DEFAULTS (services/defaults.ts). */
  carrierFailureRate: number | undefined;
  dbPoolSize: number;
  /** The saga's deadlines that are set; DEFAULT_DEADLINES (workflows/checkout-types.ts) fills in the rest. */
  deadlines: { orderTtlSeconds?: number; shippingSlaSeconds?: number; paymentHoldSeconds?: number };
  /** Unset: SERVICE_DEFAULTS (services/defaults.ts). */
  reservationTtlSeconds: number | undefined;
  /** Unset: SERVICE_DEFAULTS (services/defaults.ts). */
  fraudTotalLimit: number | undefined;
  /** A choreographed order with no event for this long is stalled (services/order/saga-sweeper.ts); unset: the shipping SLA plus 2 minutes. */
  sagaStalledAfterSeconds: number | undefined;
  /**
   * NODE_ENV=development, said explicitly: the public dev operator token and a
   * codec endpoint without a token are accepted. Unset counts as production, so
   * a forgotten variable fails closed.
   */
  development: boolean;
  /** As configured; read it through operatorToken(), which applies the dev default and the rules outside development. */
  operatorToken: string | undefined;
  /** As configured; read it through orderSecretKey(), which applies the dev default and the rules outside development. */
  orderSecretKey: string | undefined;
  rateLimitPerMinute: number;
  /** How long the API waits for Temporal per request, as set; DEFAULT_TIMEOUTS (api/checkout-client.ts) fills in the rest. */
  temporalTimeouts: { cancelMs?: number; readMs?: number; startMs?: number };
  /** NATS with JetStream: the outbox relay publishes order facts there, the notification service consumes them. */
  natsUrl: string;
  /** The stream's name; its subjects are `<name in lower case>.<EventType>`. Separate stacks on one NATS need separate streams. */
  natsStream: string;
  /** TEMPORAL_PAYLOAD_KEY and older keys; without a current key payloads are not encrypted. */
  payloadKeys: { current: PayloadKey; previous: PayloadKey[] } | undefined;
  codec: { port: number; authToken: string | undefined; corsOrigins: string[] };
  metrics: { host: string; apiPort: number; workerPort: number; temporalCorePort: number };
  worker: {
    /** How many worker processes `npm start` runs; their metrics ports come from lib/worker-ports.ts. */
    processes: number;
    /** Worker.create's maxCachedWorkflows (MAX_CACHED_WORKFLOWS, 1,000 unless set). */
    maxCachedWorkflows: number;
    /** Worker.create's stickyQueueScheduleToStartTimeout, in seconds (STICKY_QUEUE_TIMEOUT_SECONDS, 3 unless set). */
    stickyQueueTimeoutSeconds: number;
    /** The worker deployment this worker is a version of (DEPLOYMENT_NAME). */
    deploymentName: string;
    /** BUILD_ID if set; otherwise the worker uses the workflow code's own id (lib/workflow-bundle.ts). */
    buildId: string | undefined;
    /** PROMOTE_BUILD_ON_START: make this build current once it polls (unless it is already). */
    promoteOnStart: boolean;
  };
};

/** Without the unset keys, so that spreading it over the defaults keeps them. */
function setOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = env.safeParse(source);
  // Each problem names its variable, on one line, instead of a ZodError's JSON.
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (e.TEMPORAL_PAYLOAD_KEY_PREVIOUS?.length && !e.TEMPORAL_PAYLOAD_KEY) {
    throw new ConfigError('TEMPORAL_PAYLOAD_KEY_PREVIOUS is set but TEMPORAL_PAYLOAD_KEY is not: rotation needs a current key');
  }
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
    deadlines: setOnly({
      orderTtlSeconds: e.ORDER_TTL_SECONDS,
      shippingSlaSeconds: e.SHIPPING_SLA_SECONDS,
      paymentHoldSeconds: e.PAYMENT_HOLD_SECONDS,
    }),
    reservationTtlSeconds: e.RESERVATION_TTL_SECONDS,
    fraudTotalLimit: e.FRAUD_TOTAL_LIMIT,
    sagaStalledAfterSeconds: e.SAGA_STALLED_AFTER_SECONDS,
    development: e.NODE_ENV === 'development',
    operatorToken: e.OPERATOR_TOKEN,
    orderSecretKey: e.ORDER_SECRET_KEY,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    temporalTimeouts: setOnly({ cancelMs: e.CANCEL_TIMEOUT_MS, readMs: e.READ_TIMEOUT_MS, startMs: e.START_TIMEOUT_MS }),
    natsUrl: e.NATS_URL,
    natsStream: e.NATS_STREAM,
    payloadKeys: e.TEMPORAL_PAYLOAD_KEY ? { current: e.TEMPORAL_PAYLOAD_KEY, previous: e.TEMPORAL_PAYLOAD_KEY_PREVIOUS ?? [] } : undefined,
    codec: {
      port: e.CODEC_PORT,
      authToken: e.CODEC_AUTH_TOKEN,
      corsOrigins: e.CODEC_CORS_ORIGINS
        ? e.CODEC_CORS_ORIGINS.split(',')
            .map((o) => o.trim())
            .filter(Boolean)
        : [],
    },
    metrics: { host: e.METRICS_HOST, apiPort: e.API_METRICS_PORT, workerPort: e.WORKER_METRICS_PORT, temporalCorePort: e.TEMPORAL_METRICS_PORT },
    worker: {
      processes: e.WORKER_PROCESSES,
      maxCachedWorkflows: e.MAX_CACHED_WORKFLOWS,
      stickyQueueTimeoutSeconds: e.STICKY_QUEUE_TIMEOUT_SECONDS,
      deploymentName: e.DEPLOYMENT_NAME,
      buildId: e.BUILD_ID,
      promoteOnStart: e.PROMOTE_BUILD_ON_START === 'true',
    },
  };
}

/**
 * The token operator endpoints require. Only the API needs it, so the check
 * lives here rather than in loadConfig: the worker and the migration run in
 * production without one.
 */
export function operatorToken(config: Pick<Config, 'development' | 'operatorToken'>): string {
  const token = config.operatorToken;
  if (config.development) return token ?? DEV_OPERATOR_TOKEN;
  if (!token) throw new ConfigError('OPERATOR_TOKEN must be set unless NODE_ENV=development (e.g. `openssl rand -hex 32`)');
  if (token === DEV_OPERATOR_TOKEN) {
    throw new ConfigError(`OPERATOR_TOKEN must not be the public development default "${DEV_OPERATOR_TOKEN}" unless NODE_ENV=development`);
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`OPERATOR_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters unless NODE_ENV=development`);
  return token;
}

/**
 * The key from which the API derives each order's secret (api/order-secrets.ts).
 * Like the operator token, only the API needs it, and outside development it
 * fails closed: unset, the public default or too short stops the API at startup.
 */
export function orderSecretKey(config: Pick<Config, 'development' | 'orderSecretKey'>): string {
  const key = config.orderSecretKey;
  if (config.development) return key ?? DEV_ORDER_SECRET_KEY;
  if (!key) throw new ConfigError('ORDER_SECRET_KEY must be set unless NODE_ENV=development (e.g. `openssl rand -hex 32`)');
  if (key === DEV_ORDER_SECRET_KEY) {
    throw new ConfigError(`ORDER_SECRET_KEY must not be the public development default "${DEV_ORDER_SECRET_KEY}" unless NODE_ENV=development`);
  }
  if (key.length < MIN_ORDER_SECRET_KEY_LENGTH) {
    throw new ConfigError(`ORDER_SECRET_KEY must be at least ${MIN_ORDER_SECRET_KEY_LENGTH} characters unless NODE_ENV=development`);
  }
  return key;
}

/**
 * The token the codec endpoint requires: CODEC_AUTH_TOKEN, else the operator
 * token (so in development the public dev default). `none` means no check,
 * which only development accepts: the endpoint decrypts whatever it is sent.
 */
export function codecAuthToken(config: Pick<Config, 'development' | 'operatorToken' | 'codec'>): string | null {
  const token = config.codec.authToken;
  if (token === 'none') {
    if (!config.development) throw new ConfigError('CODEC_AUTH_TOKEN=none is refused unless NODE_ENV=development: the codec endpoint would decrypt for anyone');
    return null;
  }
  if (token === undefined) return operatorToken(config);
  if (!config.development && token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`CODEC_AUTH_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters unless NODE_ENV=development`);
  }
  return token;
}

export function databaseUrl(source: NodeJS.ProcessEnv = process.env): string {
  return loadConfig(source).databaseUrl;
}
