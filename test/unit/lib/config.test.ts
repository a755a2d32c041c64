import { ConfigError, databaseUrl, loadConfig } from '../../../lib/config';

// Configuration from the environment: the defaults a developer machine runs
// on, and a refusal, naming the variable, of anything that cannot be right.
// The operator token's rules are tested in operator-token.test.ts, the
// payload keys' in payload-codec.test.ts.

/** A development environment with its own operator token, so these tests do not depend on the token's rules. */
const DEV = { NODE_ENV: 'development', OPERATOR_TOKEN: 'config-test-operator-token' };
const config = (env: NodeJS.ProcessEnv = {}) => loadConfig({ ...DEV, ...env });
const refusal = (env: NodeJS.ProcessEnv) => {
  try {
    config(env);
  } catch (err) {
    return String(err);
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe('loadConfig', () => {
  it('defaults to a local PostgreSQL, Temporal dev server and NATS', () => {
    expect(config()).toMatchObject({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/checkout',
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'checkout', uiUrl: 'http://127.0.0.1:8233' },
      port: 3000,
      natsUrl: 'nats://127.0.0.1:4222',
      natsStream: 'ORDERS',
      rateLimitPerMinute: 600,
      development: true,
      payloadKeys: undefined,
      codec: { port: 8888, authToken: undefined, corsOrigins: [] },
      metrics: { host: '127.0.0.1', apiPort: 9463, workerPort: 9464, temporalCorePort: 9465 },
      worker: {
        processes: 1,
        maxCachedWorkflows: 1000,
        stickyQueueTimeoutSeconds: 3,
        deploymentName: 'checkout',
        buildId: undefined,
        promoteOnStart: true,
      },
    });
  });

  it('reads the worker processes and the workflow cache size', () => {
    expect(config({ WORKER_PROCESSES: '3', MAX_CACHED_WORKFLOWS: '250' }).worker).toMatchObject({
      processes: 3,
      maxCachedWorkflows: 250,
      stickyQueueTimeoutSeconds: 3,
    });
    // 0 is the SDK's own way to turn the cache off: accepted when asked for explicitly.
    expect(config({ MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBe(0);
  });

  it('reads the deployment and the build, and refuses a build id Temporal would not take', () => {
    expect(config({ DEPLOYMENT_NAME: 'shop', BUILD_ID: '2026.12.07-a1', PROMOTE_BUILD_ON_START: 'false' }).worker).toMatchObject({
      deploymentName: 'shop',
      buildId: '2026.12.07-a1',
      promoteOnStart: false,
    });
    // Empty, as compose passes an unset variable: the workflow code's own id.
    expect(config({ BUILD_ID: '' }).worker.buildId).toBeUndefined();
    expect(() => config({ BUILD_ID: 'a b' })).toThrow(/BUILD_ID/);
    expect(() => config({ DEPLOYMENT_NAME: 'checkout.v2' })).toThrow(/DEPLOYMENT_NAME/);
  });

  it('takes an empty MAX_CACHED_WORKFLOWS, as docker-compose.yml passes it, for unset rather than 0', () => {
    expect(config({ MAX_CACHED_WORKFLOWS: '' }).worker.maxCachedWorkflows).toBe(1000);
  });

  it('leaves unset deadlines and service tunables to the workflow and the services that own their defaults', () => {
    const set = config({ ORDER_TTL_SECONDS: '60', FRAUD_TOTAL_LIMIT: '500' });
    // Only what is set, so that { ...DEFAULT_DEADLINES, ...config.deadlines } keeps the other defaults.
    expect(set.deadlines).toEqual({ orderTtlSeconds: 60 });
    expect(set.fraudTotalLimit).toBe(500);
    expect(set.carrierFailureRate).toBeUndefined();
    expect(set.reservationTtlSeconds).toBeUndefined();
  });

  it.each(['production', 'development', undefined])('accepts NODE_ENV=%s', (NODE_ENV) => {
    expect(loadConfig({ NODE_ENV }).development).toBe(NODE_ENV === 'development');
  });

  // jest's own `test`, a typo or a near miss would otherwise pass for development.
  it.each(['test', 'prod', 'dev', 'Development', ''])('refuses NODE_ENV=%p with one line that names the variable', (NODE_ENV) => {
    expect(() => loadConfig({ NODE_ENV })).toThrow(
      new ConfigError(`Invalid configuration: NODE_ENV: must be production or development (unset counts as production), not "${NODE_ENV}"`),
    );
  });

  it('reads numbers from their strings', () => {
    expect(
      config({ PORT: '0', ORDER_TTL_SECONDS: '60', SHIPPING_SLA_SECONDS: '30', PAYMENT_HOLD_SECONDS: '90', CARRIER_FAILURE_RATE: '0.25', DB_POOL_SIZE: '4' }),
    ).toMatchObject({
      port: 0,
      deadlines: { orderTtlSeconds: 60, shippingSlaSeconds: 30, paymentHoldSeconds: 90 },
      carrierFailureRate: 0.25,
      dbPoolSize: 4,
    });
  });

  it('finds the Temporal UI on the server host, unless told where it is', () => {
    expect(config({ TEMPORAL_ADDRESS: 'temporal:7233' }).temporal.uiUrl).toBe('http://temporal:8233');
    expect(config({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_UI_PORT: '8080' }).temporal.uiUrl).toBe('http://temporal:8080');
    expect(config({ TEMPORAL_UI_URL: 'https://temporal.example.com/' }).temporal.uiUrl).toBe('https://temporal.example.com');
  });

  it('splits the codec CORS origins on commas', () => {
    expect(config({ CODEC_CORS_ORIGINS: 'http://a.example, http://b.example,,' }).codec.corsOrigins).toEqual(['http://a.example', 'http://b.example']);
  });

  it.each([
    ['a negative port', { PORT: '-1' }, 'PORT'],
    ['a port that is no number', { PORT: 'eighty' }, 'PORT'],
    ['a carrier failure rate above 1', { CARRIER_FAILURE_RATE: '1.5' }, 'CARRIER_FAILURE_RATE'],
    ['an empty database pool', { DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE'],
    ['a fractional pool size', { DB_POOL_SIZE: '2.5' }, 'DB_POOL_SIZE'],
    ['an order TTL of 0', { ORDER_TTL_SECONDS: '0' }, 'ORDER_TTL_SECONDS'],
    ['a rate limit of 0', { RATE_LIMIT_PER_MINUTE: '0' }, 'RATE_LIMIT_PER_MINUTE'],
    ['a stream name JetStream refuses', { NATS_STREAM: 'orders.v1' }, 'NATS_STREAM'],
    ['no worker process', { WORKER_PROCESSES: '0' }, 'WORKER_PROCESSES'],
    ['a fractional number of worker processes', { WORKER_PROCESSES: '1.5' }, 'WORKER_PROCESSES'],
    ['more worker processes than one machine can use', { WORKER_PROCESSES: '17' }, 'WORKER_PROCESSES'],
    ['a negative workflow cache', { MAX_CACHED_WORKFLOWS: '-1' }, 'MAX_CACHED_WORKFLOWS'],
    ['a workflow cache that is no number', { MAX_CACHED_WORKFLOWS: 'lots' }, 'MAX_CACHED_WORKFLOWS'],
    ['a workflow cache of one, which the SDK would quietly make two', { MAX_CACHED_WORKFLOWS: '1' }, 'MAX_CACHED_WORKFLOWS'],
    ['a sticky queue timeout of zero', { STICKY_QUEUE_TIMEOUT_SECONDS: '0' }, 'STICKY_QUEUE_TIMEOUT_SECONDS'],
  ])('refuses %s, naming the variable', (_what, env, variable) => {
    expect(refusal(env)).toMatch(new RegExp(`^ConfigError: Invalid configuration: ${variable}: [^\\n]+$`));
  });

  it('names every bad variable at once', () => {
    const message = refusal({ PORT: '-1', NATS_STREAM: 'a b', FRAUD_TOTAL_LIMIT: '-5' });
    for (const variable of ['PORT', 'NATS_STREAM', 'FRAUD_TOTAL_LIMIT']) expect(message).toContain(`${variable}: `);
  });

  it('reads the database URL on its own for the migration scripts', () => {
    expect(databaseUrl({ ...DEV, DATABASE_URL: 'postgresql://u@db:5432/shop' })).toBe('postgresql://u@db:5432/shop');
  });
});
