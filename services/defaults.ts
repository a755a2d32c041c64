// The services' tunables and their defaults, in a module of their own so that
// configuration (lib/config.ts) can name them without loading the services.
export const SERVICE_DEFAULTS = {
  /** Share of carrier calls that fail transiently, 0 to 1. */
  carrierFailureRate: 0,
  /** Orders above this total (minor units) are flagged as fraud. */
  fraudTotalLimit: 1_000_000,
  /** A hold left by a vanished saga is released after this. */
  reservationTtlSeconds: 3600,
};

export type ServiceSettings = Partial<typeof SERVICE_DEFAULTS>;
