// The order service in the choreographed checkout. It keeps every event of the
// order (its timeline, from which GET /orders/:id answers), closes the order
// when the last step or the last undo is done, and owns the order's TTL: a
// timer in its outbox, which asks the saga to stop if the order is still open.
import { EXPIRED_REASON, isUnexpected } from '../../domain/checkout-vocabulary';
import { reaction } from '../choreography/reaction';
import { eventId, type SagaEvent } from '../choreography/saga-events';
import { BusinessError } from '../errors';
import type { OrderService } from './order-service';

export function orderReactions(orders: OrderService, log: (message: string) => void) {
  return [
    reaction({
      name: 'orders-timeline',
      schema: 'orders',
      on: '*',
      handle: async (event: SagaEvent) => {
        const { orderId } = event;
        try {
          switch (event.type) {
            case 'InventoryCommitted':
              await orders.close(orderId, { status: 'COMPLETED' }, `${orderId}:completeOrder`, event);
              return {};
            case 'InventoryReleased': {
              const { failure, refused } = event;
              if (refused.length > 0) {
                // An undo was refused for good: an operator decides (POST /orders/:id/resolve).
                await orders.holdForOperator(orderId, { failedStep: failure.step, reason: failure.reason }, event);
                return {};
              }
              const status = isUnexpected(failure.reason) ? 'FAILED' : 'COMPENSATED';
              await orders.close(orderId, { status, failedStep: failure.step, reason: failure.reason }, `${orderId}:closeOrder`, event);
              return {};
            }
            case 'OrderTtlExpired': {
              const step = await orders.currentStep(orderId);
              // Closed already, or past the point where the TTL stops anything.
              if (!step) return {};
              const reason = EXPIRED_REASON.orderTtl;
              return { publish: [{ type: 'StopRequested', eventId: eventId(orderId, 'StopRequested', reason), attempt: 1, reason, step }] };
            }
            default:
              return {};
          }
        } catch (err) {
          // Closed with another outcome already (an operator, say): the event is history, not an order.
          if (!(err instanceof BusinessError && err.code === 'order_closed')) throw err;
          log(`orders: ${event.type} for ${orderId} arrived after the order closed (${err.message})`);
          return {};
        }
      },
    }),
  ];
}
