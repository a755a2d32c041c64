import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  TimeoutFailure,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CheckoutActivities } from '../activities/checkout-activities';
import { CheckoutProgress, type StatusChange } from './checkout-progress';
import {
  DEFAULT_DEADLINES,
  STEPS,
  type CheckoutFailure,
  type CheckoutInput,
  type CheckoutState,
  type Deadlines,
  type Resolution,
  type StepName,
} from './checkout-types';
import { Compensations, type FailedUndo } from './compensations';
import { ORDER_STATUS } from './search-attributes';

/** The patch that introduced the fraud check before payment. */
export const FRAUD_CHECK_PATCH = 'fraud-check';
/** The patch that made the saga's own short steps local activities. */
export const LOCAL_STEPS_PATCH = 'local-steps';
/** The patch that moved every patched() decision to the workflow's first activation. */
export const VERSIONS_FIRST_PATCH = 'versions-first';
/** The patch that marks the order record while the saga waits for an operator. */
export const ORDER_AWAITS_OPERATOR_PATCH = 'order-awaits-operator';
/** The patch that undoes every step when a step finds the saga already compensated. */
export const UNDO_ALL_WHEN_FENCED_PATCH = 'undo-all-when-fenced';

export const statusQuery = defineQuery<CheckoutState>('status');
/** Customer cancellation: accepted until the shipment exists. */
export const cancelUpdate = defineUpdate<CheckoutState>('cancel');
/** Operator decision on a saga whose compensation failed permanently. */
export const resolveUpdate = defineUpdate<CheckoutState, [Resolution]>('resolve');

// Forward steps retry transient errors with backoff, then give up: a checkout
// should end within minutes, not hang. Business failures are non-retryable
// and skip the retries entirely.
const forwardOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
} as const;
const forward = proxyActivities<CheckoutActivities>(forwardOptions);

// The order, fraud and inventory steps call our own services: short database
// transactions. As local activities they run in the worker inside the workflow
// task, which saves a task-queue round trip per step (see README, "Benchmark").
// The payment provider and the carrier stay regular activities: outside
// systems, whose calls get their own timeouts, heartbeats and visible retries.
const local = proxyLocalActivities<CheckoutActivities>(forwardOptions);

// Compensations are idempotent and must eventually succeed, so transient
// errors are retried without limit. A permanent refusal goes to an operator.
const undo = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Why forward progress was stopped from outside the steps. */
type StopReason = 'cancelled_by_customer' | 'timed_out';

/**
 * The checkout saga: create order, check fraud, reserve inventory, authorize
 * payment, create shipment, capture payment, complete order. If a step fails,
 * the steps before it are undone in reverse order and the order ends
 * COMPENSATED (a business failure such as a declined card, a cancellation or
 * a deadline) or FAILED (an unexpected one, such as retries exhausted).
 */
export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  const { orderId, customerId, items } = input;
  const deadlines: Deadlines = { ...DEFAULT_DEADLINES, ...input.deadlines };
  const key = (step: string) => `${workflowInfo().workflowId}:${step}`;
  const versions = decideVersions();
  // Sagas started before the change ran these steps as regular activities and must replay that way.
  const ours = versions.localSteps ? local : forward;
  const progress = new CheckoutProgress(orderId, recordStatus);
  const compensations = new Compensations<StepName>();
  // What undoes each step. Each is safe for a step that never ran: the
  // service then writes a tombstone, which also fences off a late call.
  const undoOf = {
    reserveInventory: () => undo.releaseInventory({ orderId, key: key('releaseInventory') }),
    // One compensation for the payment: it voids an authorization, or
    // refunds a capture, whichever the payment has reached.
    authorizePayment: () => undo.reversePayment({ orderId, key: key('reversePayment') }),
    createShipment: () => undo.cancelShipment({ orderId, key: key('cancelShipment') }),
  };

  // Customer cancellation and the order TTL stop the forward steps by
  // cancelling this scope. Once the shipment exists the saga only goes forward.
  const forwardSteps = new CancellationScope();
  let stopReason: StopReason | undefined;
  let shipped = false;
  const stop = (reason: StopReason) => {
    if (stopReason || shipped) return;
    stopReason = reason;
    forwardSteps.cancel();
  };

  setHandler(statusQuery, () => progress.snapshot());
  setHandler(
    cancelUpdate,
    () => {
      stop('cancelled_by_customer');
      return progress.snapshot();
    },
    {
      validator: () => {
        if (shipped) throw new Error(`Order ${orderId} has shipped and can no longer be cancelled`);
        if (progress.isTerminal) throw new Error(`Order ${orderId} is already ${progress.status}`);
      },
    },
  );

  // An operator's decision, handed from the update handler to rollBack().
  // The update answers once the decision has played out (the retry finished,
  // or the case is closed), so the operator sees its outcome.
  let pending: Resolution | undefined;
  let decisions = 0;
  let settled = 0;
  setHandler(
    resolveUpdate,
    async (resolution: Resolution) => {
      pending = resolution;
      const ticket = ++decisions;
      await condition(() => settled >= ticket);
      return progress.snapshot();
    },
    {
      validator: (_resolution: Resolution) => {
        if (progress.status !== 'FAILED_NEEDS_MANUAL' || pending) {
          throw new Error(`Order ${orderId} is ${progress.status}; only FAILED_NEEDS_MANUAL orders can be resolved`);
        }
      },
    },
  );

  const orderTtl = new CancellationScope();
  orderTtl.run(() => sleep(deadlines.orderTtlSeconds * 1000)).then(() => stop('timed_out'), ignoreCancellation);

  const carrier = proxyActivities<CheckoutActivities>({
    startToCloseTimeout: '10s',
    // The carrier gets retries, with backoff and jitter, until the SLA runs out.
    scheduleToCloseTimeout: deadlines.shippingSlaSeconds * 1000,
    heartbeatTimeout: '5s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
  });

  try {
    await forwardSteps.run(async () => {
      const order = await progress.run('createOrder', 'PENDING', () =>
        ours.createOrder({ orderId, key: key('createOrder'), customerId, items }),
      );
      progress.total = order.total;
      progress.currency = order.currency;

      // Added after the first release: sagas started before it have no fraud
      // check in their history and must replay without one (see README,
      // "Versioning").
      if (versions.fraudCheck()) {
        await progress.run('checkFraud', 'CHECKING_FRAUD', () =>
          ours.checkFraud({ customerId, total: order.total, currency: order.currency }),
        );
      } else {
        progress.skip('checkFraud');
      }

      compensations.add('reserveInventory', undoOf.reserveInventory);
      await progress.run('reserveInventory', 'RESERVING_INVENTORY', () =>
        ours.reserveInventory({ orderId, key: key('reserveInventory'), items }),
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

      compensations.add('createShipment', undoOf.createShipment);
      const hold = { holdSeconds: deadlines.paymentHoldSeconds, expiresAt: authorization.expiresAt };
      const shipment = await whileRenewingHold(hold, key, orderId, () =>
        progress.run('createShipment', 'CREATING_SHIPMENT', () =>
          carrier.createShipment({ orderId, key: key('createShipment'), address: input.shippingAddress }),
        ),
      );
      shipped = true;
      orderTtl.cancel();
      progress.trackingNumber = shipment.trackingNumber;

      await progress.run('capturePayment', 'CAPTURING_PAYMENT', () =>
        forward.capturePayment({ orderId, key: key('capturePayment') }),
      );
      await progress.run('completeOrder', 'CAPTURING_PAYMENT', async () => {
        await ours.commitInventory({ orderId, key: key('commitInventory') });
        return ours.closeOrder({ orderId, key: key('completeOrder'), outcome: { status: 'COMPLETED' } });
      });
    });
    progress.status = 'COMPLETED';
    return progress.snapshot();
  } catch (err) {
    // A bug in workflow code is not a saga failure: rethrowing fails the
    // workflow task, which Temporal retries until a fixed worker is deployed.
    if (!(err instanceof TemporalFailure)) throw err;
    orderTtl.cancel();
    const { failure, unexpected } = describeFailure(progress.currentStep, err, stopReason);
    progress.failure = failure;
    if (failure.reason === 'fenced' && versions.undoAllWhenFenced) {
      // A service says this saga was compensated already: an earlier run of it
      // (one that a reset replaced, see ops/rescue.ts) got further and rolled
      // back, perhaps not all the way. This run does not know how far it got,
      // so it undoes every later step too.
      for (const step of STEPS.slice(STEPS.indexOf(failure.step) + 1)) {
        if (step in undoOf) compensations.add(step, undoOf[step as keyof typeof undoOf]);
      }
    }
    return rollBack(unexpected);
  }

  /**
   * Runs the compensations. If one is refused for good (a refund the provider
   * rejects), the saga waits in FAILED_NEEDS_MANUAL for an operator to retry
   * or to close the case; it never spins, and never gives up silently.
   */
  async function rollBack(unexpected: boolean): Promise<CheckoutState> {
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
      // that was forgotten. Before the status changes: no operator decision
      // can arrive while the record is being written.
      if (versions.orderAwaitsOperator) {
        const { step, reason } = progress.failure!;
        await undo.holdOrderForOperator({ orderId, failure: { failedStep: step, reason } });
      }
      progress.status = 'FAILED_NEEDS_MANUAL';
      settled = decisions;
      await condition(() => pending !== undefined);
      const resolution = pending!;
      progress.resolved(resolution, new Date());
      pending = undefined;
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
    settled = decisions;
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
 * Every patched() decision of the saga, taken in its first activation, before
 * the first await. That is the rule for any future patch too: add it here.
 *
 * Why: Temporal tells the workflow which patches a history holds one workflow
 * task at a time, and a local activity's result can reach the workflow code one
 * task after the task that recorded its marker (when the task also answered a
 * query). On replay the result then arrives a task early, and a patched() call
 * right after it does not yet see the patch marker of the task it ran in:
 * it answers false where it answered true, and the saga is stuck on a
 * nondeterminism error. In the first activation no local activity has run yet,
 * so the answers are the same in every replay. See README, "Versioning".
 */
function decideVersions() {
  const first = patched(VERSIONS_FIRST_PATCH);
  const localSteps = patched(LOCAL_STEPS_PATCH);
  // Sagas started before VERSIONS_FIRST asked about the fraud check after
  // createOrder, and must replay that way. Once none of them is left:
  // deprecatePatch(VERSIONS_FIRST_PATCH), then remove the late branch.
  const fraudCheck = first ? patched(FRAUD_CHECK_PATCH) : undefined;
  const orderAwaitsOperator = patched(ORDER_AWAITS_OPERATOR_PATCH);
  const undoAllWhenFenced = patched(UNDO_ALL_WHEN_FENCED_PATCH);
  return { localSteps, fraudCheck: () => fraudCheck ?? patched(FRAUD_CHECK_PATCH), orderAwaitsOperator, undoAllWhenFenced };
}

/**
 * Keeps the payment authorization alive while the carrier works: whenever
 * only half of the hold is left, it is renewed, so a renewal slowed down by
 * retries still lands before the hold expires. If renewing fails, the capture
 * finds the hold expired and the saga compensates.
 */
async function whileRenewingHold<T>(
  hold: { holdSeconds: number; expiresAt: Date | string | null },
  key: (step: string) => string,
  orderId: string,
  work: () => Promise<T>,
): Promise<T> {
  const halfHoldMs = hold.holdSeconds * 500;
  const renewals = new CancellationScope();
  renewals
    .run(async () => {
      // Dates arrive as ISO strings: activity results are JSON.
      let expiresAt = new Date(hold.expiresAt ?? Date.now()).getTime();
      for (let n = 1; ; n++) {
        await sleep(Math.max(expiresAt - halfHoldMs - Date.now(), 1));
        const renewed = await forward.renewPaymentHold({ orderId, key: key(`renewPaymentHold-${n}`) });
        expiresAt = new Date(renewed.expiresAt ?? Date.now()).getTime();
      }
    })
    // Cancelled when the shipment exists; a failed renewal is left to the capture.
    .catch(() => undefined);
  try {
    return await work();
  } finally {
    renewals.cancel();
  }
}

/**
 * Business failures (non-retryable, typed by reason), cancellation and
 * deadlines are expected endings: COMPENSATED. Anything else is unexpected: FAILED.
 */
function describeFailure(
  step: StepName,
  err: TemporalFailure,
  stopReason: StopReason | undefined,
): { failure: CheckoutFailure; unexpected: boolean } {
  const expected = (reason: string, message: string) => ({ failure: { step, reason, message }, unexpected: false });
  if (isCancellation(err)) {
    if (stopReason === 'cancelled_by_customer') return expected(stopReason, 'Cancelled by the customer');
    if (stopReason === 'timed_out') return expected(stopReason, 'The order did not complete within its time to live');
    return expected('cancelled', 'The workflow was cancelled');
  }
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) return expected(cause.type ?? 'rejected', cause.message);
  // The carrier's schedule-to-close timeout is the shipping SLA. Temporal ends
  // its retries either with that timeout, or, when the next retry would start
  // past the deadline, with the last attempt's error and retry state TIMEOUT.
  const slaExpired =
    (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_CLOSE') ||
    (err instanceof ActivityFailure && err.retryState === 'TIMEOUT');
  if (step === 'createShipment' && slaExpired) {
    return expected('shipping_timeout', 'No shipment could be created within the shipping SLA');
  }
  const reason = cause instanceof TimeoutFailure ? 'timeout' : err instanceof ActivityFailure ? 'retries_exhausted' : 'unexpected_error';
  return { failure: { step, reason, message: cause?.message ?? err.message }, unexpected: true };
}

function describeUndoFailure({ key, error }: FailedUndo<StepName>) {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const reason = cause instanceof ApplicationFailure ? (cause.type ?? 'rejected') : 'unexpected_error';
  return { step: key, reason, message: cause instanceof Error ? cause.message : String(cause) };
}

/** Every status change is logged, and written to the OrderStatus search attribute, by which operators list orders. */
function recordStatus({ from, status, failure }: StatusChange): void {
  // Not written again on replay: the SDK's workflow logger knows.
  log.info('Checkout status changed', { from, status, ...(failure && { failedStep: failure.step, reason: failure.reason }) });
  upsertSearchAttributes([{ key: ORDER_STATUS, value: status }]);
}

function ignoreCancellation(err: unknown): void {
  if (!isCancellation(err)) throw err;
}
