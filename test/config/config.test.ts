import { ConfigError, loadConfig } from '../../lib/config';

describe('configuration', () => {
  it.each(['production', 'development', undefined])('accepts NODE_ENV=%s', (NODE_ENV) => {
    expect(loadConfig({ NODE_ENV }).development).toBe(NODE_ENV === 'development');
  });

  // jest's own `test`, a typo or a near miss would otherwise pass for development.
  it.each(['test', 'prod', 'dev', 'Development', ''])('refuses NODE_ENV=%p with one line that names the variable', (NODE_ENV) => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`Invalid configuration: NODE_ENV: must be production or development (unset counts as production), not "${NODE_ENV}"`);
  });

  it('leaves unset deadlines and service tunables to the workflow and the services that own their defaults', () => {
    const config = loadConfig({ ORDER_TTL_SECONDS: '60', FRAUD_TOTAL_LIMIT: '500' });
    // Only what is set, so that { ...DEFAULT_DEADLINES, ...config.deadlines } keeps the other defaults.
    expect(config.deadlines).toEqual({ orderTtlSeconds: 60 });
    expect(config.fraudTotalLimit).toBe(500);
    expect(config.carrierFailureRate).toBeUndefined();
    expect(config.reservationTtlSeconds).toBeUndefined();
  });
});
