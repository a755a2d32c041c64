// The events of the choreographed checkout: the contract between the services
// when no workflow coordinates them (docs/choreography.md). Every event crosses
// a wire, so every consumer validates it; an event of a version no consumer
// knows goes to the dead-letter stream instead (saga-reactor.ts).
import { z } from 'zod';
import {
  type Address,
  type Deadlines,
  type LineItem,
  STEPS,
  STOP_REASONS,
  type StepName,
  UNDOABLE_STEPS,
  type UndoableStep,
} from '../../domain/checkout-vocabulary';

/** The versions this code reads. A v2 would be added here, with a function that upgrades v1 events to it. */
export const SAGA_EVENT_VERSIONS = [1] as const;

/**
 * What every service needs to know about the order, carried by every event so no service reads another's tables.
 * In the vocabulary's shapes (`satisfies`): a field added to one of them does not compile here until the events carry it.
 */
const orderFacts = z.object({
  customerId: z.string().min(1).max(200),
  items: z.array(z.object({ sku: z.string().min(1), quantity: z.number().int().positive() })).min(1) satisfies z.ZodType<LineItem[]>,
  paymentToken: z.string().min(1).max(64),
  shippingAddress: z.object({
    name: z.string(),
    line1: z.string(),
    city: z.string(),
    postalCode: z.string(),
    country: z.string(),
  }) satisfies z.ZodType<Address>,
  total: z.number().int().nonnegative(),
  currency: z.string().length(3),
  deadlines: z.object({
    orderTtlSeconds: z.number().positive(),
    shippingSlaSeconds: z.number().positive(),
    paymentHoldSeconds: z.number().positive(),
  }) satisfies z.ZodType<Deadlines>,
});
export type OrderFacts = z.infer<typeof orderFacts>;

const failure = z.object({ step: z.enum(STEPS), reason: z.string().min(1), message: z.string() });
export type SagaFailure = z.infer<typeof failure>;

const envelope = {
  version: z.literal(1),
  eventId: z.string().min(1).max(300),
  orderId: z.string().min(1).max(200),
  occurredAt: z.iso.datetime(),
  order: orderFacts,
  /** The delivery on which the step that published this event succeeded: the step's attempts. */
  attempt: z.number().int().positive(),
};
const compensation = {
  failure,
  /** 0 for the first compensation; n for an operator's n-th retry of it. */
  round: z.number().int().nonnegative(),
  /** Undos the provider refused for good, collected along the chain. */
  refused: z.array(failure),
};

export const sagaEventSchema = z.discriminatedUnion('type', [
  // Forward, in the order they happen.
  z.object({ ...envelope, type: z.literal('OrderPlaced') }),
  z.object({ ...envelope, type: z.literal('FraudChecked'), score: z.number() }),
  z.object({ ...envelope, type: z.literal('InventoryReserved') }),
  z.object({ ...envelope, type: z.literal('PaymentAuthorized'), expiresAt: z.iso.datetime().nullable() }),
  z.object({ ...envelope, type: z.literal('ShipmentCreated'), trackingNumber: z.string().nullable() }),
  z.object({ ...envelope, type: z.literal('PaymentCaptured') }),
  z.object({ ...envelope, type: z.literal('InventoryCommitted') }),
  // A forward step failed for good: the undos start (with the shipment).
  z.object({ ...envelope, type: z.literal('StepFailed'), failure }),
  // Cancellation, the order TTL or the sweeper ask the saga to stop; the shipping service decides (it fences).
  z.object({ ...envelope, type: z.literal('StopRequested'), reason: z.enum(STOP_REASONS), step: z.enum(STEPS) }),
  z.object({ ...envelope, type: z.literal('StopRefused'), reason: z.enum(STOP_REASONS) }),
  // The undos, in reverse order of the steps.
  z.object({ ...envelope, type: z.literal('ShipmentCancelled'), ...compensation }),
  z.object({ ...envelope, type: z.literal('PaymentReversed'), ...compensation }),
  z.object({ ...envelope, type: z.literal('InventoryReleased'), ...compensation }),
  // An operator asked for the refused undos again (POST /orders/:id/resolve).
  z.object({ ...envelope, type: z.literal('UndoRetryRequested'), ...compensation }),
  // What an operator decided for an order waiting for one, and why: kept in its timeline, never published.
  z.object({ ...envelope, type: z.literal('OperatorResolved'), action: z.enum(['retry', 'mark-resolved']), note: z.string().max(1000) }),
  // Durable timers: published by their owner's relay when they are due.
  z.object({ ...envelope, type: z.literal('OrderTtlExpired') }),
  z.object({ ...envelope, type: z.literal('PaymentHoldRenewalDue'), renewal: z.number().int().positive() }),
]);

export type SagaEvent = z.infer<typeof sagaEventSchema>;
export type SagaEventType = SagaEvent['type'];
export type SagaEventOf<T extends SagaEventType> = Extract<SagaEvent, { type: T }>;
/** An event as a reaction writes it; the outbox adds version, time and order facts. */
export type NewSagaEvent = DistributiveOmit<SagaEvent, 'version' | 'occurredAt' | 'order' | 'orderId'>;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * Event ids are derived from the order and what happened, never random: a
 * reaction that runs twice (a redelivery after a crash) writes the same ids,
 * and the outbox and JetStream keep one of each.
 */
export function eventId(orderId: string, type: SagaEventType, suffix?: string | number): string {
  return suffix === undefined ? `${orderId}:${type}` : `${orderId}:${type}:${suffix}`;
}

export type ParsedEvent = { ok: true; event: SagaEvent } | { ok: false; reason: 'not_json' | 'unknown_version' | 'invalid'; detail: string };

/** Reads an event off the wire: a version we do not know, or a shape that does not parse, is for the dead-letter stream. */
export function parseSagaEvent(bytes: Uint8Array): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, reason: 'not_json', detail: 'not JSON' };
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (!SAGA_EVENT_VERSIONS.includes(version as 1)) return { ok: false, reason: 'unknown_version', detail: `version ${JSON.stringify(version)}` };
  const parsed = sagaEventSchema.safeParse(json);
  if (parsed.success) return { ok: true, event: parsed.data };
  return { ok: false, reason: 'invalid', detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

/** The event that says each forward step is done. */
export const STEP_DONE_BY: Record<StepName, SagaEventType> = {
  createOrder: 'OrderPlaced',
  checkFraud: 'FraudChecked',
  reserveInventory: 'InventoryReserved',
  authorizePayment: 'PaymentAuthorized',
  createShipment: 'ShipmentCreated',
  capturePayment: 'PaymentCaptured',
  completeOrder: 'InventoryCommitted',
};

/** The first step of the chain that these events do not show done. */
export function nextStep(types: ReadonlySet<string>): StepName | null {
  return STEPS.find((step) => !types.has(STEP_DONE_BY[step])) ?? null;
}

/** The event that says each step's undo is done; each undo's reaction publishes it for the next undo to react to. */
export const STEP_UNDONE_BY = {
  createShipment: 'ShipmentCancelled',
  authorizePayment: 'PaymentReversed',
  reserveInventory: 'InventoryReleased',
} as const satisfies Record<UndoableStep, SagaEventType>;
export type UndoDoneType = (typeof STEP_UNDONE_BY)[UndoableStep];

/** The step that an undo event says is undone, or null for any other event. */
export function undoneStep(type: SagaEventType): UndoableStep | null {
  return UNDOABLE_STEPS.find((step) => STEP_UNDONE_BY[step] === type) ?? null;
}
