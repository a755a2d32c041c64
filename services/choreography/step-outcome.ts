// How a reaction turns the outcome of a service call into events: what the
// orchestrated saga's activity options and failure classification do for it
// (workflows/activity-options.ts, workflows/failure-classification.ts).
import { CARRIER_RETRY, FORWARD_RETRY, type StepName, type UnexpectedReason } from '../../domain/checkout-vocabulary';
import { backoffMs } from '../../lib/backoff';
import { errorText } from '../../lib/nats-connection';
import { BusinessError } from '../errors';
import type { Decision } from './reaction';
import { eventId, type NewSagaEvent, type SagaEvent, type SagaEventOf, type SagaFailure } from './saga-events';

/** Deliveries a forward step gets for a transient failure: as many as the orchestrated saga's attempts. */
export const FORWARD_ATTEMPTS = FORWARD_RETRY.maximumAttempts;

/** Thrown by a reaction for a redelivery after `ms` rather than after the reactor's own backoff. */
export class RetryAfter extends Error {
  override name = 'RetryAfter';
  constructor(
    readonly ms: number,
    cause: unknown,
  ) {
    super(errorText(cause), { cause });
  }
}

export function stepFailed(cause: SagaEvent, failure: SagaFailure, attempt: number): NewSagaEvent {
  return { type: 'StepFailed', eventId: eventId(cause.orderId, 'StepFailed'), attempt, failure };
}

/**
 * Runs a forward step. A business "no" becomes StepFailed, which starts the
 * undos; `fenced` means the undos ran already, so there is nothing to say.
 * Anything else is retried with backoff until the attempts, or the deadline
 * (`until`, with its own reason), run out, and then fails the step.
 */
export async function forwardStep(
  cause: SagaEvent,
  step: StepName,
  attempt: number,
  work: () => Promise<NewSagaEvent[]>,
  deadline?: { until: Date; reason: string; message: string },
): Promise<Decision> {
  try {
    return { publish: await work() };
  } catch (err) {
    if (err instanceof BusinessError) {
      if (err.code === 'fenced') return {};
      return { publish: [stepFailed(cause, { step, reason: err.code, message: err.message }, attempt)] };
    }
    if (deadline) {
      const left = deadline.until.getTime() - Date.now();
      if (left <= 0) return { publish: [stepFailed(cause, { step, reason: deadline.reason, message: deadline.message }, attempt)] };
      // A step with a deadline retries as the carrier does, without a count: jittered, and never
      // past the deadline, so the step fails on time.
      const backoff = backoffMs(attempt - 1, { baseMs: CARRIER_RETRY.initialIntervalMs, maxMs: CARRIER_RETRY.maximumIntervalMs });
      throw new RetryAfter(Math.min(backoff, left), err);
    }
    if (attempt >= FORWARD_ATTEMPTS) {
      const reason: UnexpectedReason = 'retries_exhausted';
      return { publish: [stepFailed(cause, { step, reason, message: errorText(err) }, attempt)] };
    }
    throw err;
  }
}

/**
 * Runs an undo and passes the chain on: the next undo event carries the
 * failure and the round on, with this undo's refusal added if the provider
 * refused for good. It must eventually succeed, so anything but a refusal is
 * retried without limit (by redelivery).
 */
export async function undoStep(
  cause: SagaEventOf<'ShipmentCancelled' | 'PaymentReversed' | 'UndoRetryRequested'>,
  step: StepName,
  next: 'PaymentReversed' | 'InventoryReleased',
  attempt: number,
  work: () => Promise<unknown>,
): Promise<Decision> {
  let refusal: SagaFailure | null = null;
  try {
    await work();
  } catch (err) {
    if (!(err instanceof BusinessError)) throw err;
    refusal = { step, reason: err.code, message: err.message };
  }
  const { orderId, failure, round, refused } = cause;
  return { publish: [{ type: next, eventId: eventId(orderId, next, round), attempt, failure, round, refused: refusal ? [...refused, refusal] : refused }] };
}
