import type { CheckoutFailure, CheckoutState, CheckoutStatus, StepName, StepState, StepStatus } from './checkout-types';
import { STEPS } from './checkout-types';

/** What the status query reports: the saga's status and each step's state. */
export class CheckoutProgress {
  status: CheckoutStatus = 'PENDING';
  total: number | null = null;
  currency = 'USD';
  failure?: CheckoutFailure;
  trackingNumber?: string | null;
  private readonly steps: StepState[] = STEPS.map((name) => ({ name, status: 'pending', attempts: 0 }));

  constructor(readonly orderId: string) {}

  /** Runs a forward step, recording its state and the attempt it ended on. */
  async run<T extends { attempt: number }>(name: StepName, status: CheckoutStatus, action: () => Promise<T>): Promise<T> {
    this.status = status;
    this.mark(name, 'running');
    try {
      const result = await action();
      this.mark(name, 'completed', result.attempt);
      return result;
    } catch (err) {
      this.mark(name, 'failed', attemptOf(err));
      throw err;
    }
  }

  mark(name: StepName, status: StepStatus, attempts?: number): void {
    const step = this.step(name);
    step.status = status;
    if (attempts !== undefined) step.attempts = Math.max(step.attempts, attempts);
  }

  /** A completed step is being undone. A failed step is undone too, but stays "failed". */
  compensating(name: StepName): void {
    if (this.stepStatus(name) === 'completed') this.mark(name, 'compensating');
  }

  compensated(name: StepName, error?: unknown): void {
    const status = this.stepStatus(name);
    if (!error && (status === 'compensating' || status === 'completed')) this.mark(name, 'compensated');
  }

  /** The step that was running when the saga failed. */
  get currentStep(): StepName {
    return this.steps.find((s) => s.status === 'running' || s.status === 'failed')?.name ?? 'createOrder';
  }

  stepStatus(name: StepName): StepStatus {
    return this.step(name).status;
  }

  snapshot(): CheckoutState {
    return {
      orderId: this.orderId,
      status: this.status,
      total: this.total,
      currency: this.currency,
      steps: this.steps.map((s) => ({ ...s })),
      ...(this.failure && { failure: this.failure }),
      ...(this.trackingNumber !== undefined && { trackingNumber: this.trackingNumber }),
    };
  }

  private step(name: StepName): StepState {
    return this.steps.find((s) => s.name === name)!;
  }
}

/** Activities attach `{attempt}` to their failures' details; see activities/to-temporal.ts. */
function attemptOf(err: unknown): number | undefined {
  let cause: unknown = err;
  while (cause && typeof cause === 'object') {
    const details = (cause as { details?: unknown[] }).details;
    const attempt = (details?.[0] as { attempt?: unknown } | undefined)?.attempt;
    if (typeof attempt === 'number') return attempt;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
