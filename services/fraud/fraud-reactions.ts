// The fraud service in the choreographed checkout: it checks every placed order.
import { reaction } from '../choreography/reaction';
import { eventId } from '../choreography/saga-events';
import { forwardStep } from '../choreography/step-outcome';
import type { FraudService } from './fraud-service';

export function fraudReactions(fraud: FraudService) {
  return [
    reaction({
      name: 'fraud-check',
      schema: 'fraud',
      on: 'OrderPlaced',
      handle: (placed, attempt) =>
        forwardStep(placed, 'checkFraud', attempt, async () => {
          const { customerId, total, currency } = placed.order;
          const { score } = await fraud.assess({ customerId, total, currency });
          return [{ type: 'FraudChecked', eventId: eventId(placed.orderId, 'FraudChecked'), attempt, score }];
        }),
    }),
  ];
}
