// The checkout's vocabulary: what the orchestrated saga (workflows/), the
// choreographed one (services/choreography/) and the API that reports on both
// must say alike, so that an order reads the same however it was coordinated.
//
// It imports nothing, on purpose: the workflow sandbox replays it, the browser
// bundles it and the services run it, and each of them can load only what has
// no dependencies (.dependency-cruiser.cjs, domain-imports-nothing). A word
// that only one saga uses belongs with that saga, not here.

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

/** The deadlines as the status query shows them (see docs/saga-design.md, "Timers and deadlines"). */
export const TIMERS = ['orderTtl', 'shippingSla', 'paymentHold'] as const;
export type TimerName = (typeof TIMERS)[number];

/** The failure reason a deadline gives when it runs out: how a reader of the failure tells which one stopped the saga. */
export const EXPIRED_REASON = {
  orderTtl: 'timed_out',
  shippingSla: 'shipping_timeout',
  paymentHold: 'authorization_expired',
} as const satisfies Record<TimerName, string>;

/** In the order they run. Both sagas report every step, in this order, even one that was skipped. */
export const STEPS = ['createOrder', 'checkFraud', 'reserveInventory', 'authorizePayment', 'createShipment', 'capturePayment', 'completeOrder'] as const;
export type StepName = (typeof STEPS)[number];

/**
 * What undoes each step that leaves something behind, named as the undo's
 * activity and idempotency key are. The other steps need none: the fraud check
 * holds nothing, reversePayment also refunds a capture, and the order itself is
 * undone by closing it with the outcome, which is only known at the very end.
 */
export const UNDO_OF = { reserveInventory: 'releaseInventory', authorizePayment: 'reversePayment', createShipment: 'cancelShipment' } as const;
export type UndoableStep = keyof typeof UNDO_OF;
export type UndoName = (typeof UNDO_OF)[UndoableStep];

export function isUndoable(step: StepName): step is UndoableStep {
  return Object.hasOwn(UNDO_OF, step);
}

/** In step order; both sagas undo them in the reverse of it, the shipment first. */
export const UNDOABLE_STEPS: readonly UndoableStep[] = STEPS.filter(isUndoable);

/**
 * How a step retries a transient error: with backoff, then it gives up, so a
 * checkout ends within minutes instead of hanging. The workflow hands these to
 * Temporal's retry policy, the choreography to its redeliveries; both add
 * jitter, so sagas that failed together do not retry in lockstep.
 */
export const FORWARD_RETRY = { initialIntervalMs: 500, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 8 } as const;

/**
 * The carrier backs off as a forward step does, but without a count of
 * attempts: the shipping SLA is what ends its retries (`shipping_timeout`).
 */
export const CARRIER_RETRY = { initialIntervalMs: 500, backoffCoefficient: 2, maximumIntervalMs: 10_000 } as const;

/**
 * Undos are idempotent and must eventually succeed, so a transient error is
 * retried without limit, more patiently than a forward step: nobody waits on
 * an undo, and the provider it calls may be the one that is struggling.
 */
export const UNDO_RETRY = { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 } as const;

/** Why the forward steps were stopped from outside them. Only the choreography has a sweeper, so only it says `stalled`. */
export const STOP_REASONS = ['cancelled_by_customer', 'timed_out', 'stalled'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/**
 * The reasons of failures nobody planned for (a provider that stayed down, a
 * bug): the saga still compensates, but the order ends FAILED rather than
 * COMPENSATED, so that someone looks at it. Every other reason is an expected
 * ending: a service's refusal (its error code, e.g. `out_of_stock`), a stop or
 * a deadline.
 */
export const UNEXPECTED_REASONS = ['retries_exhausted', 'timeout', 'unexpected_error'] as const;
export type UnexpectedReason = (typeof UNEXPECTED_REASONS)[number];

export function isUnexpected(reason: string): reason is UnexpectedReason {
  return (UNEXPECTED_REASONS as readonly string[]).includes(reason);
}

/** What the customer reads for the endings the sagas decide themselves (the services word their own refusals). */
export const FAILURE_MESSAGES = {
  cancelled_by_customer: 'Cancelled by the customer',
  timed_out: 'The order did not complete within its time to live',
  stalled: 'The order stopped making progress; the sweeper stopped it',
  shipping_timeout: 'No shipment could be created within the shipping SLA',
} as const satisfies Record<StopReason | typeof EXPIRED_REASON.shippingSla, string>;
