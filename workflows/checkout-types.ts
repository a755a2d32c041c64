// Types shared by the workflow, its activities and the API. Pure: no imports
// with side effects, so the workflow sandbox can load it. The words both sagas
// share live in domain/checkout-vocabulary.ts; they are re-exported here for
// the many modules that import them from the saga's types.
import type { Address, Deadlines, LineItem, StepName, TimerName } from '../domain/checkout-vocabulary';

export type { Address, Deadlines, LineItem, StepName, TimerName, UndoableStep, UndoName } from '../domain/checkout-vocabulary';
export { DEFAULT_DEADLINES, STEPS, UNDO_OF } from '../domain/checkout-vocabulary';

export type CheckoutInput = {
  orderId: string;
  customerId: string;
  items: LineItem[];
  payment: { token: string };
  shippingAddress: Address;
  deadlines?: Partial<Deadlines>;
};

export const CHECKOUT_STATUSES = [
  'PENDING',
  'CHECKING_FRAUD',
  'RESERVING_INVENTORY',
  'CHARGING_PAYMENT',
  'CREATING_SHIPMENT',
  'CAPTURING_PAYMENT',
  'COMPLETED',
  'COMPENSATING',
  'COMPENSATED',
  'FAILED_NEEDS_MANUAL',
  'RESOLVED_MANUALLY',
  'FAILED',
] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

export const TERMINAL_STATUSES: readonly CheckoutStatus[] = ['COMPLETED', 'COMPENSATED', 'RESOLVED_MANUALLY', 'FAILED'];

export type StepStatus = 'pending' | 'skipped' | 'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'compensation_failed';
export type StepState = { name: StepName; status: StepStatus; attempts: number };

/** Why the saga did not complete. `reason` is machine-readable, e.g. `out_of_stock`. */
export type CheckoutFailure = { step: StepName; reason: string; message: string };

/** A compensation that failed permanently and waits for an operator. */
export type FailedCompensation = CheckoutFailure;

export type Resolution = { action: 'retry' | 'mark-resolved'; note: string };

/** `stopped`: what it guarded is over (shipped, captured, rolled back); `expired`: it ran out and stopped the saga. */
export type TimerState = { name: TimerName; endsAt: string; status: 'running' | 'stopped' | 'expired' };

export type UndoStatus = 'registered' | 'undoing' | 'undone' | 'failed';
/** An entry of the compensation stack, in the order it was pushed. */
export type UndoState = { step: StepName; undo: string; status: UndoStatus };

export type CheckoutState = {
  orderId: string;
  status: CheckoutStatus;
  total: number | null;
  currency: string;
  steps: StepState[];
  failure?: CheckoutFailure;
  failedCompensations?: FailedCompensation[];
  resolutions?: (Resolution & { at: string })[];
  trackingNumber?: string | null;
  /** Absent from the answers of sagas whose worker predates them. */
  timers?: TimerState[];
  compensations?: UndoState[];
};

/** Every activity result says on which attempt it succeeded, for the status query. */
export type Attempted<T> = T & { attempt: number };

/** Details attached to every ApplicationFailure an activity throws. */
export type FailureDetails = { attempt: number; [key: string]: unknown };
