import { condition, defineUpdate, setHandler } from '@temporalio/workflow';
import type { CheckoutProgress } from './checkout-progress';
import type { CheckoutState, Resolution } from './checkout-types';

/** Operator decision on a saga whose compensation failed permanently. */
export const resolveUpdate = defineUpdate<CheckoutState, [Resolution]>('resolve');

/**
 * How an operator resolves a saga whose compensation was refused for good
 * (a refund the provider rejects): the saga waits in FAILED_NEEDS_MANUAL, never
 * spinning and never giving up silently, until the resolve update says to
 * retry the undos still owed or to close the case.
 *
 * The update answers once its decision has played out (the retry finished, or
 * the case is closed), so the operator sees the outcome. Each decision takes a
 * ticket; `settle()` answers every ticket taken so far.
 */
export class ManualResolution {
  private pending: Resolution | undefined;
  private decisions = 0;
  private settled = 0;

  /** Registers the resolve update: in the workflow's first activation, with its other handlers. */
  constructor(private readonly progress: CheckoutProgress) {
    setHandler(
      resolveUpdate,
      async (resolution: Resolution) => {
        this.pending = resolution;
        const ticket = ++this.decisions;
        await condition(() => this.settled >= ticket);
        return progress.snapshot();
      },
      {
        validator: (_resolution: Resolution) => {
          if (progress.status !== 'FAILED_NEEDS_MANUAL' || this.pending) {
            throw new Error(`Order ${progress.orderId} is ${progress.status}; only FAILED_NEEDS_MANUAL orders can be resolved`);
          }
        },
      },
    );
  }

  /**
   * Puts the saga in FAILED_NEEDS_MANUAL and waits for a decision; then
   * takeDecision() hands it over. A retry that failed again is answered here,
   * as the saga waits once more. No await of its own: one more between the
   * decision and the saga's next command could put that command after another
   * handler's, where recorded histories have it before.
   */
  awaitDecision(): Promise<void> {
    this.progress.status = 'FAILED_NEEDS_MANUAL';
    this.settle();
    return condition(() => this.pending !== undefined);
  }

  /** The decision that ended the wait, recorded in the saga's progress. */
  takeDecision(): Resolution {
    const resolution = this.pending!;
    this.progress.resolved(resolution, new Date());
    this.pending = undefined;
    return resolution;
  }

  /** Answers the decisions taken so far: their outcome is now in the saga's progress. */
  settle(): void {
    this.settled = this.decisions;
  }
}
