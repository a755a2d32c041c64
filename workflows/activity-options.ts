import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { CheckoutActivities } from '../activities/checkout-activities';
import { CARRIER_RETRY, FORWARD_RETRY, UNDO_RETRY } from '../domain/checkout-vocabulary';

/**
 * The vocabulary's retry numbers as Temporal's retry policy. In milliseconds,
 * which the SDK takes as it takes '500ms' or '10s': recorded sagas see the
 * same policy either way.
 */
function retryPolicy(retry: { initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number; maximumAttempts?: number }): RetryPolicy {
  return {
    initialInterval: retry.initialIntervalMs,
    backoffCoefficient: retry.backoffCoefficient,
    maximumInterval: retry.maximumIntervalMs,
    ...(retry.maximumAttempts !== undefined && { maximumAttempts: retry.maximumAttempts }),
  };
}

// Business failures are non-retryable and skip the retries entirely.
const forwardOptions = { startToCloseTimeout: '10s', retry: retryPolicy(FORWARD_RETRY) } as const;
export const forward = proxyActivities<CheckoutActivities>(forwardOptions);

// The order, fraud and inventory steps call our own services: short database
// transactions. As local activities they run in the worker inside the workflow
// task, which saves a task-queue round trip per step (bench/README.md, "Levers").
// The payment provider and the carrier stay regular activities: outside
// systems, whose calls get their own timeouts, heartbeats and visible retries.
export const local = proxyLocalActivities<CheckoutActivities>(forwardOptions);

// A permanent refusal of an undo goes to an operator; anything else is retried without limit.
export const undo = proxyActivities<CheckoutActivities>({ startToCloseTimeout: '10s', retry: retryPolicy(UNDO_RETRY) });

/** The carrier gets retries, with backoff and jitter, until the shipping SLA runs out. */
export function carrierWithin(shippingSlaSeconds: number) {
  return proxyActivities<CheckoutActivities>({
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: shippingSlaSeconds * 1000,
    heartbeatTimeout: '5s',
    retry: retryPolicy(CARRIER_RETRY),
  });
}
