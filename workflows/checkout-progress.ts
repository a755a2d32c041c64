import type {
  CheckoutFailure,
  CheckoutState,
  CheckoutStatus,
  FailedCompensation,
  Resolution,
  StepName,
  StepState,
  StepStatus,
  TimerName,
  TimerState,
  UndoState,
  UndoStatus,
} from './checkout-types';
import { isUndoable, STEPS, UNDO_OF } from '../domain/checkout-vocabulary';
import { TERMINAL_STATUSES } from './checkout-types';

/** A change of the saga's status, with the failure that caused it, if any. */
export type StatusChange = { from: CheckoutStatus; status: CheckoutStatus; failure?: CheckoutFailure };

/**
 * What the status query reports: the saga's status and each step's state.
 * Every status change goes to `onStatusChange`, which the workflow uses to
 * log it and to write the OrderStatus search attribute; passed in, so that
 * this class needs no workflow and a unit test can check what it reports.
 */
export class CheckoutProgress {
  private current: CheckoutStatus = 'PENDING';
  total: number | null = null;
  currency = 'USD';
  failure?: CheckoutFailure;
  failedCompensations?: FailedCompensation[];
  trackingNumber?: string | null;
  private readonly resolutions: (Resolution & { at: string })[] = [];
  private readonly steps: StepState[] = STEPS.map((name) => ({ name, status: 'pending', attempts: 0 }));
  private readonly timers = new Map<TimerName, TimerState>();

  constructor(
    readonly orderId: string,
    private readonly onStatusChange: (change: StatusChange) => void,
    /** The compensation stack, read at each snapshot (workflows/compensations.ts). */
    private readonly undos?: { view(): { key: StepName; status: UndoStatus }[] },
  ) {}

  get status(): CheckoutStatus {
    return this.current;
  }

  set status(status: CheckoutStatus) {
    if (status === this.current) return;
    const from = this.current;
    this.current = status;
    this.onStatusChange({ from, status, ...(this.failure && { failure: this.failure }) });
  }

  get isTerminal(): boolean {
    return TERMINAL_STATUSES.includes(this.current);
  }

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

  skip(name: StepName): void {
    this.mark(name, 'skipped');
  }

  /** A completed step is being undone. A failed step is undone too, but stays "failed". */
  compensating(name: StepName): void {
    if (this.stepStatus(name) === 'completed' || this.stepStatus(name) === 'compensation_failed') this.mark(name, 'compensating');
  }

  compensated(name: StepName, error?: unknown): void {
    const status = this.stepStatus(name);
    if (error) this.mark(name, 'compensation_failed');
    else if (status === 'compensating' || status === 'completed') this.mark(name, 'compensated');
  }

  /**
   * A deadline the saga now runs against, or its new end (a renewed payment
   * hold). Reported only: the timers themselves are the workflow's and the
   * activities' own, so this adds no command to the history.
   */
  startTimer(name: TimerName, endsAt: Date | string | number): void {
    this.timers.set(name, { name, endsAt: new Date(endsAt).toISOString(), status: 'running' });
  }

  /** A deadline that no longer matters (`stopped`), or the one that stopped the saga (`expired`). */
  stopTimer(name: TimerName, status: 'stopped' | 'expired' = 'stopped'): void {
    const timer = this.timers.get(name);
    if (timer?.status === 'running') timer.status = status;
  }

  resolved(resolution: Resolution, at: Date): void {
    this.resolutions.push({ ...resolution, at: at.toISOString() });
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
      status: this.current,
      total: this.total,
      currency: this.currency,
      steps: this.steps.map((s) => ({ ...s })),
      ...(this.failure && { failure: this.failure }),
      ...(this.failedCompensations && { failedCompensations: this.failedCompensations }),
      ...(this.resolutions.length > 0 && { resolutions: [...this.resolutions] }),
      ...(this.trackingNumber !== undefined && { trackingNumber: this.trackingNumber }),
      ...(this.timers.size > 0 && { timers: [...this.timers.values()].map((t) => ({ ...t })) }),
      ...(this.undos && { compensations: this.undos.view().map(undoState) }),
    };
  }

  private mark(name: StepName, status: StepStatus, attempts?: number): void {
    const step = this.step(name);
    step.status = status;
    if (attempts !== undefined) step.attempts = Math.max(step.attempts, attempts);
  }

  private step(name: StepName): StepState {
    return this.steps.find((s) => s.name === name)!;
  }
}

function undoState({ key, status }: { key: StepName; status: UndoStatus }): UndoState {
  return { step: key, undo: isUndoable(key) ? UNDO_OF[key] : key, status };
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
