import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation, type TemporalFailure } from '@temporalio/workflow';
import { EXPIRED_REASON, FAILURE_MESSAGES, type UnexpectedReason } from '../domain/checkout-vocabulary';
import type { CheckoutFailure, FailedCompensation, StepName } from './checkout-types';
import type { FailedUndo } from './compensations';
import type { StopReason } from './forward-steps';

/**
 * Business failures (non-retryable, typed by reason), cancellation and
 * deadlines are expected endings: COMPENSATED. Anything else is unexpected: FAILED.
 */
export function describeFailure(step: StepName, err: TemporalFailure, stopReason: StopReason | undefined): { failure: CheckoutFailure; unexpected: boolean } {
  const expected = (reason: string, message: string) => ({ failure: { step, reason, message }, unexpected: false });
  if (isCancellation(err)) {
    if (stopReason) return expected(stopReason, FAILURE_MESSAGES[stopReason]);
    return expected('cancelled', 'The workflow was cancelled');
  }
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) return expected(cause.type ?? 'rejected', cause.message);
  // The carrier's schedule-to-close timeout is the shipping SLA. Temporal ends
  // its retries either with that timeout, or, when the next retry would start
  // past the deadline, with the last attempt's error and retry state TIMEOUT.
  const slaExpired =
    (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_CLOSE') || (err instanceof ActivityFailure && err.retryState === 'TIMEOUT');
  if (step === 'createShipment' && slaExpired) {
    return expected(EXPIRED_REASON.shippingSla, FAILURE_MESSAGES[EXPIRED_REASON.shippingSla]);
  }
  const reason: UnexpectedReason = cause instanceof TimeoutFailure ? 'timeout' : err instanceof ActivityFailure ? 'retries_exhausted' : 'unexpected_error';
  return { failure: { step, reason, message: cause?.message ?? err.message }, unexpected: true };
}

/** A compensation refused for good, as the status query and the operator see it. */
export function describeUndoFailure({ key, error }: FailedUndo<StepName>): FailedCompensation {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const reason = cause instanceof ApplicationFailure ? (cause.type ?? 'rejected') : 'unexpected_error';
  return { step: key, reason, message: cause instanceof Error ? cause.message : String(cause) };
}
