import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  defineUpdate,
  isCancellation,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { CheckoutProgress } from './checkout-progress';
import type { CheckoutState } from './checkout-types';

/** Customer cancellation: accepted until the shipment exists. */
export const cancelUpdate = defineUpdate<CheckoutState>('cancel');

/** Why forward progress was stopped from outside the steps. */
export type StopReason = 'cancelled_by_customer' | 'timed_out';

/** The cancel update's failure when the shipment's result reached the saga with, or before, the cancel. */
export const ORDER_SHIPPED = 'OrderShipped';

/**
 * The scope the forward steps run in. Customer cancellation and the order TTL
 * stop the steps by cancelling it. Once the shipment exists the saga only goes
 * forward: neither stops it any more.
 *
 * A stop takes effect at a step boundary, against the step's outcome as the
 * history records it (docs/saga-interleavings.md): cancelling the scope
 * cancels the step in flight, but a step whose result came in the same
 * activation as the stop has its result, and when that step is the shipment,
 * the stop is refused.
 */
export class ForwardSteps {
  private readonly scope = new CancellationScope();
  private readonly orderTtl = new CancellationScope();
  private shipped = false;
  /** Why the steps were stopped from outside, if they were. */
  stopReason: StopReason | undefined;

  /** Registers the cancel update: in the workflow's first activation, with its other handlers. */
  constructor(progress: CheckoutProgress) {
    setHandler(
      cancelUpdate,
      // Answered once the stop has been decided: taken (the saga compensates), or refused because the
      // shipment's result came with it.
      async () => {
        this.stop('cancelled_by_customer');
        await condition(() => this.shipped || progress.failure !== undefined);
        if (this.shipped) {
          throw ApplicationFailure.create({
            type: ORDER_SHIPPED,
            message: `Order ${progress.orderId} had shipped before the cancel took effect`,
            nonRetryable: true,
          });
        }
        return progress.snapshot();
      },
      {
        validator: () => {
          if (this.shipped) throw new Error(`Order ${progress.orderId} has shipped and can no longer be cancelled`);
          if (progress.isTerminal) throw new Error(`Order ${progress.orderId} is already ${progress.status}`);
          // Once rolling back, a cancel changes nothing, so it is refused rather than accepted as a
          // no-op: a refused update leaves no event in the history. Accepted no-op cancels, sent
          // again and again by a client under load while the undos ran, produced a history the SDK
          // could not replay (docs/stuck-sagas.md, "Repeated cancels").
          if (progress.failure) throw new Error(`Order ${progress.orderId} is already being compensated`);
        },
      },
    );
  }

  /** Starts the order's time to live: if it runs out first, the steps stop. */
  startOrderTtl(seconds: number): void {
    this.orderTtl.run(() => sleep(seconds * 1000)).then(() => this.stop('timed_out'), ignoreCancellation);
  }

  run<T>(steps: () => Promise<T>): Promise<T> {
    return this.scope.run(steps);
  }

  /**
   * One of our own steps (a short database transaction): once started, it
   * finishes; when the saga was stopped first, it does not start. So a stop
   * takes effect at the next step. Cancelling a local activity that a replay
   * started a task early fails the workflow task in the SDK for good (see
   * docs/stuck-sagas.md).
   */
  own<T>(step: () => Promise<T>): Promise<T> {
    if (this.scope.consideredCancelled) return Promise.reject(new CancelledFailure('The saga was stopped before this step'));
    return CancellationScope.nonCancellable(step);
  }

  /**
   * The shipment exists: from here on, only forward. A stop that reached the
   * saga in the activation that brought the shipment's result has cancelled
   * the scope already: it is withdrawn, and the steps after the shipment run
   * outside that scope (see afterShipment).
   */
  markShipped(): void {
    this.shipped = true;
    this.orderTtl.cancel();
    this.stopReason = undefined;
  }

  /**
   * The steps after the shipment, which no stop can interrupt. They wait for
   * the answer to a cancel that the shipment overtook to be written first, so
   * that an update's acceptance and completion never have another command
   * between them in one task (docs/stuck-sagas.md, "Repeated cancels").
   */
  afterShipment<T>(steps: () => Promise<T>): Promise<T> {
    return CancellationScope.nonCancellable(async () => {
      await this.answered();
      return steps();
    });
  }

  /**
   * Every cancel that was waiting for the stop's decision has been answered (its completion is written).
   * Uncancellable: a cancelled run (`temporal workflow cancel`) must still get to its undos.
   */
  answered(): Promise<void> {
    return CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }

  /** The steps ended without completing: the TTL has nothing left to stop. */
  stopOrderTtl(): void {
    this.orderTtl.cancel();
  }

  private stop(reason: StopReason): void {
    if (this.stopReason || this.shipped) return;
    this.stopReason = reason;
    this.scope.cancel();
  }
}

function ignoreCancellation(err: unknown): void {
  if (!isCancellation(err)) throw err;
}
