// The facts the order service publishes about orders: its public contract with
// whoever listens (today the notification service). A fact carries everything a
// listener needs, so nobody has to read the orders schema to act on it.
import { z } from 'zod';

export const ORDER_EVENT_TYPES = ['OrderCompleted', 'OrderCompensated', 'OrderFailed', 'OrderResolvedManually'] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

// The statuses an order closes with. Named here rather than taken from
// OrderOutcome, so the contract depends on nothing in the service; closing an
// order with a status missing here fails to compile in OrderService.close.
const CLOSED_STATUSES = ['COMPLETED', 'COMPENSATED', 'FAILED', 'RESOLVED_MANUALLY'] as const;
type ClosedStatus = (typeof CLOSED_STATUSES)[number];

const EVENT_TYPE_BY_STATUS = {
  COMPLETED: 'OrderCompleted',
  COMPENSATED: 'OrderCompensated',
  FAILED: 'OrderFailed',
  RESOLVED_MANUALLY: 'OrderResolvedManually',
} as const satisfies Record<ClosedStatus, OrderEventType>;

/** Version 1 of an order's terminal fact. Listeners validate it: it crossed a wire. */
export const orderClosedFactSchema = z
  .object({
    version: z.literal(1),
    eventId: z.string().uuid(),
    type: z.enum(ORDER_EVENT_TYPES),
    occurredAt: z.iso.datetime(),
    orderId: z.string().min(1).max(200),
    customerId: z.string().min(1).max(200),
    status: z.enum(CLOSED_STATUSES),
    total: z.number().int().nonnegative(),
    currency: z.string().length(3),
    failure: z.object({ step: z.string(), reason: z.string() }).nullable(),
  })
  .refine((f) => EVENT_TYPE_BY_STATUS[f.status] === f.type, { message: 'type does not match status', path: ['type'] });

export type OrderClosedFact = z.infer<typeof orderClosedFactSchema>;

export function eventTypeFor(status: ClosedStatus): OrderEventType {
  return EVENT_TYPE_BY_STATUS[status];
}
