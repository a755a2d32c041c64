import { DEV_ORDER_SECRET_KEY, loadConfig, orderSecretKey } from '../../../lib/config';
import { OrderSecrets } from '../../../api/order-secrets';

// The per-order secret (api/order-secrets.ts) and the key it is derived from
// (lib/config.ts); test/api/orders-api.test.ts checks the routes it guards.

describe('order secrets', () => {
  const secrets = new OrderSecrets('k'.repeat(32));

  it('are the same for one order every time, different for another order or key, and fit a Bearer header and a URL fragment', () => {
    const secret = secrets.secretFor('ord_1');
    expect(secrets.secretFor('ord_1')).toBe(secret);
    expect(secrets.secretFor('ord_2')).not.toBe(secret);
    expect(new OrderSecrets('j'.repeat(32)).secretFor('ord_1')).not.toBe(secret);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("match only the order's own secret, whatever the length of what was sent", () => {
    expect(secrets.matches('ord_1', secrets.secretFor('ord_1'))).toBe(true);
    for (const wrong of [secrets.secretFor('ord_2'), '', 'x', secrets.secretFor('ord_1').slice(1), `${secrets.secretFor('ord_1')}x`]) {
      expect(secrets.matches('ord_1', wrong)).toBe(false);
    }
  });
});

describe('ORDER_SECRET_KEY', () => {
  const keyFor = (env: NodeJS.ProcessEnv) => orderSecretKey(loadConfig(env));

  it('defaults to the public dev key in development only', () => {
    expect(keyFor({ NODE_ENV: 'development' })).toBe(DEV_ORDER_SECRET_KEY);
    expect(keyFor({ NODE_ENV: 'development', ORDER_SECRET_KEY: '' })).toBe(DEV_ORDER_SECRET_KEY);
    expect(keyFor({ NODE_ENV: 'development', ORDER_SECRET_KEY: 'short' })).toBe('short');
  });

  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset', {}],
  ])('with %s, refuses a missing, public or short key', (_mode, env) => {
    expect(() => keyFor(env)).toThrow(/ORDER_SECRET_KEY must be set/);
    expect(() => keyFor({ ...env, ORDER_SECRET_KEY: '' })).toThrow(/ORDER_SECRET_KEY must be set/);
    expect(() => keyFor({ ...env, ORDER_SECRET_KEY: DEV_ORDER_SECRET_KEY })).toThrow(/public development default/);
    expect(() => keyFor({ ...env, ORDER_SECRET_KEY: 'a'.repeat(31) })).toThrow(/at least 32/);
    expect(keyFor({ ...env, ORDER_SECRET_KEY: 'a'.repeat(32) })).toBe('a'.repeat(32));
  });
});
