import { loadConfig } from '../../lib/config';

describe('configuration', () => {
  it('leaves unset deadlines and service tunables to the workflow and the services that own their defaults', () => {
    const config = loadConfig({ ORDER_TTL_SECONDS: '60', FRAUD_TOTAL_LIMIT: '500' });
    // Only what is set, so that { ...DEFAULT_DEADLINES, ...config.deadlines } keeps the other defaults.
    expect(config.deadlines).toEqual({ orderTtlSeconds: 60 });
    expect(config.fraudTotalLimit).toBe(500);
    expect(config.carrierFailureRate).toBeUndefined();
    expect(config.reservationTtlSeconds).toBeUndefined();
  });
});
