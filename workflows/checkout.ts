import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  TimeoutFailure,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CheckoutActivities } from '../activities/checkout-activities';
import { CheckoutProgress } from './checkout-progress';
import type { CheckoutFailure, CheckoutInput, CheckoutState, StepName } from './checkout-types';
import { Compensations } from './compensations';

export const statusQuery = defineQuery<CheckoutState>('status');

// Forward steps retry transient errors with backoff, then give up: a checkout
// should end within a minute, not hang. Business failures are non-retryable
// and skip the retries entirely.
const forward = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
});

// Compensations are idempotent and must eventually succeed, so they retry
// without a limit (an operator can see them in the Temporal UI meanwhile).
const undo = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * The checkout saga: create order, reserve inventory, charge payment, create
 * shipment, complete order. If a step fails, the steps before it are undone
 * in reverse order and the order ends COMPENSATED (a business failure such as
 * a declined card) or FAILED (an unexpected one, such as retries exhausted).
 */
export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  const { orderId, customerId, items } = input;
  const key = (step: string) => `${workflowInfo().workflowId}:${step}`;
  const progress = new CheckoutProgress(orderId);
  const compensations = new Compensations<StepName>();
  setHandler(statusQuery, () => progress.snapshot());

  try {
    const order = await progress.run('createOrder', 'PENDING', () =>
      forward.createOrder({ orderId, key: key('createOrder'), customerId, items }),
    );
    progress.total = order.total;
    progress.currency = order.currency;

    compensations.add('reserveInventory', () => undo.releaseInventory({ orderId, key: key('releaseInventory') }));
    await progress.run('reserveInventory', 'RESERVING_INVENTORY', () =>
      forward.reserveInventory({ orderId, key: key('reserveInventory'), items }),
    );

    compensations.add('chargePayment', () => undo.refundPayment({ orderId, key: key('refundPayment') }));
    await progress.run('chargePayment', 'CHARGING_PAYMENT', () =>
      forward.chargePayment({ orderId, key: key('chargePayment'), token: input.payment.token, amount: order.total, currency: order.currency }),
    );

    compensations.add('createShipment', () => undo.cancelShipment({ orderId, key: key('cancelShipment') }));
    const shipment = await progress.run('createShipment', 'CREATING_SHIPMENT', () =>
      forward.createShipment({ orderId, key: key('createShipment'), address: input.shippingAddress }),
    );
    progress.trackingNumber = shipment.trackingNumber;

    await progress.run('completeOrder', 'CREATING_SHIPMENT', async () => {
      await forward.commitInventory({ orderId, key: key('commitInventory') });
      return forward.closeOrder({ orderId, key: key('completeOrder'), outcome: { status: 'COMPLETED' } });
    });
    progress.status = 'COMPLETED';
    return progress.snapshot();
  } catch (err) {
    // A bug in workflow code is not a saga failure: rethrowing fails the
    // workflow task, which Temporal retries until a fixed worker is deployed.
    if (!(err instanceof TemporalFailure)) throw err;
    const { failure, unexpected } = describeFailure(progress.currentStep, err);
    progress.failure = failure;
    progress.status = 'COMPENSATING';

    const failedUndos = await compensations.runAll({
      before: (step) => progress.compensating(step),
      after: (step, error) => progress.compensated(step, error),
    });
    // Undoing the order itself means closing its record with the outcome,
    // which is only known now. Closing a never-created order is a no-op.
    const status = unexpected || failedUndos.length > 0 ? 'FAILED' : 'COMPENSATED';
    await CancellationScope.nonCancellable(() =>
      undo.closeOrder({ orderId, key: key('closeOrder'), outcome: { status, failedStep: failure.step, reason: failure.reason } }),
    );
    progress.compensated('createOrder');
    progress.status = status;
    if (status === 'FAILED') {
      throw ApplicationFailure.create({
        type: 'CheckoutFailed',
        message: `Checkout ${orderId} failed at ${failure.step}: ${failure.message}`,
        nonRetryable: true,
        details: [progress.snapshot()],
      });
    }
    return progress.snapshot();
  }
}

/**
 * Business failures (non-retryable, typed by reason) and cancellation are
 * expected endings: COMPENSATED. Anything else is unexpected: FAILED.
 */
function describeFailure(step: StepName, err: TemporalFailure): { failure: CheckoutFailure; unexpected: boolean } {
  if (isCancellation(err)) return { failure: { step, reason: 'cancelled', message: 'Checkout was cancelled' }, unexpected: false };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) {
    return { failure: { step, reason: cause.type ?? 'rejected', message: cause.message }, unexpected: false };
  }
  const reason = cause instanceof TimeoutFailure ? 'timeout' : err instanceof ActivityFailure ? 'retries_exhausted' : 'unexpected_error';
  return { failure: { step, reason, message: cause?.message ?? err.message }, unexpected: true };
}
