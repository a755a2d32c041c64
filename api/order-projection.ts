// A choreographed order's state, folded from its timeline: the events the
// order service received (services/order/order-reactions.ts) and its record.
// No workflow holds this state, so it is computed on read, in the same shape as
// the orchestrated saga's status query, so that clients need not care which
// kind of order they read. Pure: a unit test feeds it timelines.
import { EXPIRED_REASON, isUndoable, STEPS, type StepName, type TimerName, UNDO_OF, type UndoableStep } from '../domain/checkout-vocabulary';
import type { SagaEvent, SagaEventOf, SagaFailure, UndoDoneType } from '../services/choreography/saga-events';
import { nextStep, STEP_DONE_BY, undoneStep } from '../services/choreography/saga-events';
import type { OrderView } from '../services/order/order-service';
import type { CheckoutFailure, CheckoutState, CheckoutStatus, StepState, TimerState, UndoState } from '../workflows/checkout-types';

/** The status an open order has while each step runs, as the orchestrated saga reports it. */
const RUNNING_STATUS: Record<StepName, CheckoutStatus> = {
  createOrder: 'PENDING',
  checkFraud: 'CHECKING_FRAUD',
  reserveInventory: 'RESERVING_INVENTORY',
  authorizePayment: 'CHARGING_PAYMENT',
  createShipment: 'CREATING_SHIPMENT',
  capturePayment: 'CAPTURING_PAYMENT',
  completeOrder: 'CAPTURING_PAYMENT',
};

/** One line of "everything that happened to order X". */
export type TimelineEntry = { type: SagaEvent['type']; at: string; attempt: number; detail?: string };

export function projectCheckout(order: OrderView, timeline: readonly SagaEvent[]): CheckoutState & { timeline: TimelineEntry[] } {
  const steps = new Map<StepName, StepState>(STEPS.map((name) => [name, { name, status: 'pending', attempts: 0 }]));
  const step = (name: StepName) => steps.get(name)!;
  const types = new Set(timeline.map((e) => e.type));
  const undos = new Map<UndoableStep, UndoState>();
  const register = (undoable: UndoableStep) => undos.set(undoable, { step: undoable, undo: UNDO_OF[undoable], status: 'registered' });
  let failure: SagaFailure | undefined;
  let refused: SagaFailure[] = [];
  let trackingNumber: string | null = null;
  let stopped = false;
  const resolutions: NonNullable<CheckoutState['resolutions']> = [];

  for (const event of timeline) {
    const done = STEPS.find((s) => STEP_DONE_BY[s] === event.type);
    if (done) {
      Object.assign(step(done), { status: 'completed', attempts: event.attempt });
      if (isUndoable(done)) register(done);
    }
    if (event.type === 'ShipmentCreated') trackingNumber = event.trackingNumber;
    if (event.type === 'OperatorResolved') resolutions.push({ action: event.action, note: event.note, at: event.occurredAt });
    if (event.type === 'StepFailed') {
      failure ??= event.failure;
      const failed = event.failure.step;
      Object.assign(step(failed), { status: 'failed', attempts: event.attempt });
      // Its outcome may be unknown (a timeout after the provider acted): its undo runs anyway, as the workflow's does.
      if (isUndoable(failed) && !undos.has(failed)) register(failed);
    }
    const undone = undoneStep(event.type);
    if (undone) {
      const undoDone = event as SagaEventOf<UndoDoneType>;
      failure ??= undoDone.failure;
      stopped = true;
      refused = undoDone.refused;
      const wasRefused = undoDone.refused.some((r) => r.step === undone);
      const undo = undos.get(undone);
      if (undo) undo.status = wasRefused ? 'failed' : 'undone';
      const s = step(undone);
      if (s.status === 'completed' || s.status === 'compensation_failed') s.status = wasRefused ? 'compensation_failed' : 'compensated';
    }
  }

  const closed = order.status !== 'PENDING' && order.status !== 'FAILED_NEEDS_MANUAL';
  const compensating = stopped || types.has('StepFailed');
  const current = nextStep(types);
  if (order.failure) failure = { ...order.failure, step: order.failure.step as StepName, message: failure?.message ?? '' };
  if (failure && step(failure.step).status === 'pending') step(failure.step).status = 'failed';
  if (!compensating && !closed && current) step(current).status = 'running';
  // The undos still owed, while they run.
  if (compensating && !closed) {
    for (const undo of undos.values()) if (undo.status === 'registered') step(undo.step).status = 'compensating';
  }
  if (order.status === 'COMPLETED') step('completeOrder').status = 'completed';
  if (closed && order.status !== 'COMPLETED') step('createOrder').status = 'compensated';

  const status: CheckoutStatus = order.status !== 'PENDING' ? order.status : compensating ? 'COMPENSATING' : RUNNING_STATUS[current ?? 'completeOrder'];
  return {
    orderId: order.orderId,
    status,
    total: order.total,
    currency: order.currency,
    steps: [...steps.values()],
    ...(failure && { failure: failure as CheckoutFailure }),
    ...(order.status === 'FAILED_NEEDS_MANUAL' && { failedCompensations: refused as CheckoutFailure[] }),
    trackingNumber,
    timers: timersOf(timeline, failure, closed),
    compensations: [...undos.values()],
    ...(resolutions.length > 0 && { resolutions }),
    timeline: timeline.map(entry),
  };
}

function timersOf(timeline: readonly SagaEvent[], failure: SagaFailure | undefined, closed: boolean): TimerState[] {
  const at = (type: SagaEvent['type']) => timeline.find((e) => e.type === type);
  const placed = at('OrderPlaced');
  const authorized = at('PaymentAuthorized');
  const shipped = at('ShipmentCreated');
  const over = closed || Boolean(failure);
  const timers: TimerState[] = [];
  const timer = (name: TimerName, endsAt: Date, stoppedBy: unknown) =>
    timers.push({
      name,
      endsAt: endsAt.toISOString(),
      status: failure?.reason === EXPIRED_REASON[name] ? 'expired' : stoppedBy || over ? 'stopped' : 'running',
    });
  if (placed) timer('orderTtl', addSeconds(placed.occurredAt, placed.order.deadlines.orderTtlSeconds), shipped);
  if (authorized) {
    timer('shippingSla', addSeconds(authorized.occurredAt, authorized.order.deadlines.shippingSlaSeconds), shipped);
    if (authorized.type === 'PaymentAuthorized' && authorized.expiresAt) timer('paymentHold', new Date(authorized.expiresAt), at('PaymentCaptured'));
  }
  return timers;
}

const addSeconds = (iso: string, seconds: number) => new Date(new Date(iso).getTime() + seconds * 1000);

function entry(event: SagaEvent): TimelineEntry {
  const detail =
    'failure' in event
      ? `${event.failure.step}: ${event.failure.reason}${'refused' in event && event.refused.length > 0 ? ` (refused: ${event.refused.map((r) => r.reason).join(', ')})` : ''}`
      : 'reason' in event
        ? event.reason
        : event.type === 'ShipmentCreated'
          ? (event.trackingNumber ?? undefined)
          : event.type === 'OperatorResolved'
            ? `${event.action}: ${event.note}`
            : undefined;
  return { type: event.type, at: event.occurredAt, attempt: event.attempt, ...(detail && { detail }) };
}
