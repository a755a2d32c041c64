// The shipping service in the choreographed checkout: it ships once the payment
// is authorized, within the shipping SLA; it starts the undos when a step has
// failed; and it is where cancellation and deadlines are fenced, because "has
// it shipped?" is its own data: once shipped, an order only goes forward.
import { EXPIRED_REASON, FAILURE_MESSAGES } from '../../domain/checkout-vocabulary';
import { reaction } from '../choreography/reaction';
import { eventId, type NewSagaEvent, type SagaEvent, type SagaFailure } from '../choreography/saga-events';
import { forwardStep } from '../choreography/step-outcome';
import type { ShippingService } from './shipping-service';

export function shippingReactions(shipping: ShippingService) {
  const key = (orderId: string, step: string) => `${orderId}:${step}`;
  const cancelled = (cause: SagaEvent, attempt: number, failure: SagaFailure): NewSagaEvent => ({
    type: 'ShipmentCancelled',
    eventId: eventId(cause.orderId, 'ShipmentCancelled', 0),
    attempt,
    failure,
    round: 0,
    refused: [],
  });
  return [
    reaction({
      name: 'shipping-create',
      schema: 'shipping',
      on: 'PaymentAuthorized',
      handle: (authorized, attempt) => {
        // The SLA is this service's durable timer: it counts from the authorization, which the event records.
        const until = new Date(new Date(authorized.occurredAt).getTime() + authorized.order.deadlines.shippingSlaSeconds * 1000);
        return forwardStep(
          authorized,
          'createShipment',
          attempt,
          async () => {
            const shipment = await shipping.createShipment(authorized.orderId, authorized.order.shippingAddress, key(authorized.orderId, 'createShipment'));
            return [{ type: 'ShipmentCreated', eventId: eventId(authorized.orderId, 'ShipmentCreated'), attempt, trackingNumber: shipment.trackingNumber }];
          },
          { until, reason: EXPIRED_REASON.shippingSla, message: FAILURE_MESSAGES[EXPIRED_REASON.shippingSla] },
        );
      },
    }),
    reaction({
      name: 'shipping-undo',
      schema: 'shipping',
      on: 'StepFailed',
      handle: async (failed, attempt) => {
        // The first undo, safe for a shipment that never existed: its fence refuses a late create.
        await shipping.cancelShipment(failed.orderId, key(failed.orderId, 'cancelShipment'));
        return { publish: [cancelled(failed, attempt, failed.failure)] };
      },
    }),
    reaction({
      name: 'shipping-stop',
      schema: 'shipping',
      on: 'StopRequested',
      handle: async (stop, attempt) => {
        const outcome = await shipping.stopUnlessShipped(stop.orderId, key(stop.orderId, 'cancelShipment'));
        if (outcome === 'shipped') {
          return { publish: [{ type: 'StopRefused', eventId: eventId(stop.orderId, 'StopRefused', stop.reason), attempt, reason: stop.reason }] };
        }
        return { publish: [cancelled(stop, attempt, { step: stop.step, reason: stop.reason, message: FAILURE_MESSAGES[stop.reason] })] };
      },
    }),
  ];
}
