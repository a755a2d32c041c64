import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CheckoutActivities } from '../activities/checkout-activities';

// Forward steps retry transient errors with backoff, then give up: a checkout
// should end within minutes, not hang. Business failures are non-retryable
// and skip the retries entirely.
const forwardOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
} as const;
export const forward = proxyActivities<CheckoutActivities>(forwardOptions);

// The order, fraud and inventory steps call our own services: short database
// transactions. As local activities they run in the worker inside the workflow
// task, which saves a task-queue round trip per step (bench/README.md, "Levers").
// The payment provider and the carrier stay regular activities: outside
// systems, whose calls get their own timeouts, heartbeats and visible retries.
export const local = proxyLocalActivities<CheckoutActivities>(forwardOptions);

// Compensations are idempotent and must eventually succeed, so transient
// errors are retried without limit. A permanent refusal goes to an operator.
export const undo = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** The carrier gets retries, with backoff and jitter, until the shipping SLA runs out. */
export function carrierWithin(shippingSlaSeconds: number) {
  return proxyActivities<CheckoutActivities>({
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: shippingSlaSeconds * 1000,
    heartbeatTimeout: '5s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
  });
}
