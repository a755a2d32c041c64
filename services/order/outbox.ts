// The transactional outbox of the order service: a fact is written by the same
// transaction as the change it reports, so it exists exactly when the change
// committed. Publishing is the relay's job (outbox-relay.ts), never the writer's:
// a broker that is down must not fail, or slow, closing an order.
import { randomUUID } from 'node:crypto';
import type { Order } from '../../generated/prisma/client';
import { eventTypeFor, orderClosedFactSchema, type OrderClosedFact } from './order-events';

type ClosedOrder = Pick<Order, 'id' | 'customerId' | 'total' | 'currency' | 'failedStep' | 'failureReason'> & {
  status: OrderClosedFact['status'];
};

/** The fact that the order closed, for the outbox row that the closing statement writes (see OrderService.close). */
export function orderClosedFact(order: ClosedOrder): OrderClosedFact {
  // Parsed on the way in too: a fact we could not consume must not be stored.
  const fact = orderClosedFactSchema.parse({
    version: 1,
    eventId: randomUUID(),
    type: eventTypeFor(order.status),
    occurredAt: new Date().toISOString(),
    orderId: order.id,
    customerId: order.customerId,
    status: order.status,
    total: order.total,
    currency: order.currency,
    failure: order.failedStep && order.failureReason ? { step: order.failedStep, reason: order.failureReason } : null,
  } satisfies OrderClosedFact);
  return fact;
}
