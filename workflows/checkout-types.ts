// Types shared by the workflow, its activities and the API. Pure: no imports
// with side effects, so the workflow sandbox can load it.

export type LineItem = { sku: string; quantity: number };
export type Address = { name: string; line1: string; city: string; postalCode: string; country: string };

/** The saga's clocks. The API fills them from configuration; tests use seconds. */
export type Deadlines = {
  /** No saga stays open longer than this: at the deadline it compensates (`timed_out`). */
  orderTtlSeconds: number;
  /** The carrier has this long, retries included, to create the shipment (`shipping_timeout`). */
  shippingSlaSeconds: number;
  /** An authorization expires after this; the saga renews it while it waits for the shipment. */
  paymentHoldSeconds: number;
};

export const DEFAULT_DEADLINES: Deadlines = { orderTtlSeconds: 900, shippingSlaSeconds: 300, paymentHoldSeconds: 600 };

export type CheckoutInput = {
  orderId: string;
  customerId: string;
  items: LineItem[];
  payment: { token: string };
  shippingAddress: Address;
  deadlines?: Partial<Deadlines>;
};

export const STEPS = ['createOrder', 'checkFraud', 'reserveInventory', 'authorizePayment', 'createShipment', 'capturePayment', 'completeOrder'] as const;
export type StepName = (typeof STEPS)[number];

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

/** The saga's deadlines, as the status query shows them (see docs/saga-design.md, "Timers and deadlines"). */
export type TimerName = 'orderTtl' | 'shippingSla' | 'paymentHold';
/** `stopped`: what it guarded is over (shipped, captured, rolled back); `expired`: it ran out and stopped the saga. */
export type TimerState = { name: TimerName; endsAt: string; status: 'running' | 'stopped' | 'expired' };

/** The activity that undoes each step that has an undo on the compensation stack. */
export const UNDO_OF = { reserveInventory: 'releaseInventory', authorizePayment: 'reversePayment', createShipment: 'cancelShipment' } as const;
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
