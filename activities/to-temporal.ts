import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { FORWARD_RETRY } from '../domain/checkout-vocabulary';
import { backoffMs } from '../lib/backoff';
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
        // A declined card or an empty shelf is an answer, not a fault: the SDK
        // then logs it at DEBUG instead of WARN and leaves it out of its failure metrics.
        category: ApplicationFailureCategory.BENIGN,
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof TransientError) {
      throw ApplicationFailure.create({ message, type: 'TransientError', details: [details], nextRetryDelay: jitteredBackoff(attempt) });
    }
    throw ApplicationFailure.create({ message, type: err instanceof Error ? err.name : 'Error', details: [details] });
  }
}

/**
 * Temporal's retry policy backs off exponentially but without jitter, so
 * sagas that failed together against a struggling provider would retry in
 * lockstep. For transient errors we pick the delay ourselves: the forward
 * steps' backoff, with jitter, as the choreography's redeliveries have it.
 */
export function jitteredBackoff(attempt: number, random: () => number = Math.random): number {
  return backoffMs(attempt - 1, { baseMs: FORWARD_RETRY.initialIntervalMs, maxMs: FORWARD_RETRY.maximumIntervalMs, random });
}

/**
 * Heartbeats while a slow call runs, so a worker that dies mid-call is
 * noticed within the activity's heartbeat timeout instead of its full
 * start-to-close timeout. The first beat comes after `everyMs`, not at once:
 * the server counts the heartbeat timeout from the activity's start, so a
 * worker that dies before its first beat is noticed just as soon, and a call
 * that answers in milliseconds (nearly all) costs the server no heartbeat
 * write at all.
 */
export async function heartbeating<T>(call: () => Promise<T>, everyMs = 1_000): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}
