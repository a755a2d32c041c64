// Services speak in domain errors; the activity layer translates them into
// Temporal failures. Keeping Temporal out of services keeps them reusable and
// lets their tests run against PostgreSQL alone.

/** A definitive "no" from a service. Retrying cannot change the answer. */
export class BusinessError extends Error {
  override name = 'BusinessError';
  constructor(
    /** Machine-readable reason, e.g. `out_of_stock`, `card_declined`. */
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A failure that may go away on its own: a timeout, a flaky provider. */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** An idempotency key names one operation; reusing it for another order is a caller bug. */
export function keyReused(idempotencyKey: string): BusinessError {
  return new BusinessError('idempotency_conflict', `Idempotency key ${idempotencyKey} was already used for another order`);
}
