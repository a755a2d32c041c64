import {
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  defineQuery,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { carrierWithin, forward, local, undo } from './activity-options';
import { CheckoutProgress, type StatusChange } from './checkout-progress';
import { DEFAULT_DEADLINES, STEPS, type CheckoutInput, type CheckoutState, type StepName } from './checkout-types';
import { EXPIRED_REASON, isUndoable, type UndoableStep } from '../domain/checkout-vocabulary';
import { Compensations } from './compensations';
import { describeFailure, describeUndoFailure } from './failure-classification';
import { ForwardSteps } from './forward-steps';
import { ManualResolution } from './manual-resolution';
import { whileRenewingHold } from './payment-hold';
import { ORDER_STATUS } from './search-attributes';

export const statusQuery = defineQuery<CheckoutState>('status');

/**
 * The checkout saga: create order, check fraud, reserve inventory, authorize
 * payment, create shipment, capture payment, complete order. If a step fails,
 * the steps before it are undone in reverse order and the order ends
 * COMPENSATED (a business failure such as a declined card, a cancellation or
 * a deadline) or FAILED (an unexpected one, such as retries exhausted).
 */
export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  const { orderId, customerId, items } = input;
  const deadlines = { ...DEFAULT_DEADLINES, ...input.deadlines };
  const key = (step: string) => `${workflowInfo().workflowId}:${step}`;
  const carrier = carrierWithin(deadlines.shippingSlaSeconds);
  const compensations = new Compensations<StepName>();
  const progress = new CheckoutProgress(orderId, recordStatus, compensations);
  // What undoes each step. Each is safe for a step that never ran: the
  // service then writes a tombstone, which also fences off a late call.
  const undoOf: Record<UndoableStep, () => Promise<unknown>> = {
    reserveInventory: () => undo.releaseInventory({ orderId, key: key('releaseInventory') }),
    // One compensation for the payment: it voids an authorization, or
    // refunds a capture, whichever the payment has reached.
    authorizePayment: () => undo.reversePayment({ orderId, key: key('reversePayment') }),
    createShipment: () => undo.cancelShipment({ orderId, key: key('cancelShipment') }),
  };

  // In this order, before the first await: an update that came with the first
  // workflow task is answered as its handler is registered, so the order of
  // these lines is written into the history.
  setHandler(statusQuery, () => progress.snapshot());
  const forwardSteps = new ForwardSteps(progress);
  const operator = new ManualResolution(progress);
  forwardSteps.startOrderTtl(deadlines.orderTtlSeconds);
  // The deadlines are also reported by the status query, which is all these
  // startTimer() and stopTimer() calls do: they add no command to the history.
  progress.startTimer('orderTtl', Date.now() + deadlines.orderTtlSeconds * 1000);

  // Our own steps run inside workflow tasks, and a task that is lost (its
  // worker died) may have reserved stock that this history will never show:
  // the saga might then stop before it reserves again. So the reservation's
  // undo is registered before the first of them.
  compensations.add('reserveInventory', undoOf.reserveInventory);
  try {
    await forwardSteps.run(async () => {
      const order = await progress.run('createOrder', 'PENDING', () =>
        forwardSteps.own(() => local.createOrder({ orderId, key: key('createOrder'), customerId, items })),
      );
      progress.total = order.total;
      progress.currency = order.currency;

      await progress.run('checkFraud', 'CHECKING_FRAUD', () =>
        forwardSteps.own(() => local.checkFraud({ customerId, total: order.total, currency: order.currency })),
      );

      await progress.run('reserveInventory', 'RESERVING_INVENTORY', () =>
        forwardSteps.own(() => local.reserveInventory({ orderId, key: key('reserveInventory'), items })),
      );

      compensations.add('authorizePayment', undoOf.authorizePayment);
      const authorization = await progress.run('authorizePayment', 'CHARGING_PAYMENT', () =>
        forward.authorizePayment({
          orderId,
          key: key('authorizePayment'),
          token: input.payment.token,
          amount: order.total,
          currency: order.currency,
          holdSeconds: deadlines.paymentHoldSeconds,
        }),
      );

      if (authorization.expiresAt) progress.startTimer('paymentHold', authorization.expiresAt);

      compensations.add('createShipment', undoOf.createShipment);
      const hold = { holdSeconds: deadlines.paymentHoldSeconds, expiresAt: authorization.expiresAt };
      const renewHold = (n: number) => forward.renewPaymentHold({ orderId, key: key(`renewPaymentHold-${n}`) });
      const shipment = await whileRenewingHold(
        hold,
        renewHold,
        () => {
          progress.startTimer('shippingSla', Date.now() + deadlines.shippingSlaSeconds * 1000);
          return progress.run('createShipment', 'CREATING_SHIPMENT', () =>
            carrier.createShipment({ orderId, key: key('createShipment'), address: input.shippingAddress }),
          );
        },
        (expiresAt) => progress.startTimer('paymentHold', expiresAt),
      );
      forwardSteps.markShipped();
      progress.stopTimer('shippingSla');
      progress.stopTimer('orderTtl');
      progress.trackingNumber = shipment.trackingNumber;

      await forwardSteps.afterShipment(async () => {
        await progress.run('capturePayment', 'CAPTURING_PAYMENT', () => forward.capturePayment({ orderId, key: key('capturePayment') }));
        progress.stopTimer('paymentHold');
        await progress.run('completeOrder', 'CAPTURING_PAYMENT', async () => {
          await local.commitInventory({ orderId, key: key('commitInventory') });
          return local.closeOrder({ orderId, key: key('completeOrder'), outcome: { status: 'COMPLETED' } });
        });
      });
    });
    progress.status = 'COMPLETED';
    return progress.snapshot();
  } catch (err) {
    // A bug in workflow code is not a saga failure: rethrowing fails the
    // workflow task, which Temporal retries until a fixed worker is deployed.
    if (!(err instanceof TemporalFailure)) throw err;
    forwardSteps.stopOrderTtl();
    const { failure, unexpected } = describeFailure(progress.currentStep, err, forwardSteps.stopReason);
    progress.failure = failure;
    progress.stopTimer('orderTtl', failure.reason === EXPIRED_REASON.orderTtl ? 'expired' : 'stopped');
    progress.stopTimer('shippingSla', failure.reason === EXPIRED_REASON.shippingSla ? 'expired' : 'stopped');
    // The undo voids the hold, or the capture found it expired: either way it no longer counts down.
    progress.stopTimer('paymentHold');
    if (failure.reason === 'fenced') {
      // A service says this saga was compensated already: an earlier run of it
      // (one that a reset replaced, see ops/rescue.ts) got further and rolled
      // back, perhaps not all the way. This run does not know how far it got,
      // so it undoes every later step too.
      for (const step of STEPS.slice(STEPS.indexOf(failure.step) + 1)) {
        if (isUndoable(step)) compensations.add(step, undoOf[step]);
      }
    }
    // A cancel waiting for the stop's decision is answered before the first undo is scheduled.
    await forwardSteps.answered();
    return rollBack({ orderId, key, progress, compensations, operator }, unexpected);
  }
}

type Saga = {
  orderId: string;
  key: (step: string) => string;
  progress: CheckoutProgress;
  compensations: Compensations<StepName>;
  operator: ManualResolution;
};

/**
 * Runs the compensations. If one is refused for good (a refund the provider
 * rejects), the saga waits in FAILED_NEEDS_MANUAL for an operator to retry
 * or to close the case; it never spins, and never gives up silently.
 */
async function rollBack({ orderId, key, progress, compensations, operator }: Saga, unexpected: boolean): Promise<CheckoutState> {
  const hooks = { before: (step: StepName) => progress.compensating(step), after: progress.compensated.bind(progress) };
  // Cancellation cannot interrupt the undos: a cancelled saga must still be
  // rolled back. Async on purpose: it keeps the awaits of the recorded
  // histories, and with them the order of commands on replay.
  const undoAll = async () => CancellationScope.nonCancellable(() => compensations.runAll(hooks));
  let status: 'COMPENSATED' | 'FAILED' | 'RESOLVED_MANUALLY' = unexpected ? 'FAILED' : 'COMPENSATED';
  progress.status = 'COMPENSATING';
  let failed = await undoAll();
  while (failed.length > 0) {
    progress.failedCompensations = failed.map(describeUndoFailure);
    // The order record says so too, so that nobody takes it for an order
    // that was forgotten. Before the status changes (in awaitDecision): no
    // operator decision can arrive while the record is being written.
    const { step, reason } = progress.failure!;
    await undo.holdOrderForOperator({ orderId, failure: { failedStep: step, reason } });
    await operator.awaitDecision();
    const resolution = operator.takeDecision();
    if (resolution.action === 'mark-resolved') {
      status = 'RESOLVED_MANUALLY';
      break;
    }
    progress.status = 'COMPENSATING';
    failed = await undoAll();
  }

  // Undoing the order itself means closing its record with the outcome,
  // which is only known now. Closing a never-created order is a no-op.
  const failure = progress.failure!;
  await CancellationScope.nonCancellable(() =>
    undo.closeOrder({ orderId, key: key('closeOrder'), outcome: { status, failedStep: failure.step, reason: failure.reason } }),
  );
  progress.compensated('createOrder');
  progress.status = status;
  operator.settle();
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

/** Every status change is logged, and written to the OrderStatus search attribute, by which operators list orders. */
function recordStatus({ from, status, failure }: StatusChange): void {
  // Not written again on replay: the SDK's workflow logger knows.
  log.info('Checkout status changed', { from, status, ...(failure && { failedStep: failure.step, reason: failure.reason }) });
  upsertSearchAttributes([{ key: ORDER_STATUS, value: status }]);
}
