import { CancellationScope, CancelledFailure, defineUpdate, isCancellation, setHandler, sleep } from '@temporalio/workflow';
import type { CheckoutProgress } from './checkout-progress';
import type { CheckoutState } from './checkout-types';

/** Customer cancellation: accepted until the shipment exists. */
export const cancelUpdate = defineUpdate<CheckoutState>('cancel');

/** Why forward progress was stopped from outside the steps. */
export type StopReason = 'cancelled_by_customer' | 'timed_out';

/**
 * The scope the forward steps run in. Customer cancellation and the order TTL
 * stop the steps by cancelling it. Once the shipment exists the saga only goes
 * forward: neither stops it any more.
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
      () => {
        this.stop('cancelled_by_customer');
        return progress.snapshot();
      },
      {
        validator: () => {
          if (this.shipped) throw new Error(`Order ${progress.orderId} has shipped and can no longer be cancelled`);
          if (progress.isTerminal) throw new Error(`Order ${progress.orderId} is already ${progress.status}`);
          // Once rolling back, a cancel changes nothing, so it is refused rather than accepted as a
          // no-op: a refused update leaves no event in the history. Accepted no-op cancels, sent
          // again and again by a client under load while the undos ran, produced a history the SDK
          // could not replay (docs/stuck-sagas.md, "Repeated cancels"). Validators do not run on
          // replay, so sagas that accepted such cancels before still replay as they ran.
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
   * docs/stuck-sagas.md); sagas started before patch own-steps-finish cancel
   * it all the same, and must replay that way.
   */
  own<T>(step: () => Promise<T>, finish: boolean): Promise<T> {
    // Not async: the old path must take exactly the microtasks it always took.
    if (!finish) return step();
    if (this.scope.consideredCancelled) return Promise.reject(new CancelledFailure('The saga was stopped before this step'));
    return CancellationScope.nonCancellable(step);
  }

  /** The shipment exists: from here on, only forward. */
  markShipped(): void {
    this.shipped = true;
    this.orderTtl.cancel();
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
