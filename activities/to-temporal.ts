import { ApplicationFailure, Context } from '@temporalio/activity';
import { BusinessError, TransientError } from '../services/errors';
import type { Attempted, FailureDetails } from '../workflows/checkout-types';

/**
 * Wraps a service call for Temporal: business errors become non-retryable
 * failures typed by their reason code, so the workflow can compensate and name
 * the reason; everything else is retryable. Results and failures both carry the
 * attempt number, which is how the workflow's status query shows retries.
 */
export async function toTemporal<T extends object>(call: () => Promise<T>): Promise<Attempted<T>> {
  const { attempt } = Context.current().info;
  try {
    return { ...(await call()), attempt };
  } catch (err) {
    const details: FailureDetails = { attempt };
    if (err instanceof BusinessError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.code,
        nonRetryable: true,
        details: [{ ...err.details, ...details }],
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    const type = err instanceof TransientError ? 'TransientError' : err instanceof Error ? err.name : 'Error';
    throw ApplicationFailure.create({ message, type, nonRetryable: false, details: [details], cause: err instanceof Error ? err : undefined });
  }
}
