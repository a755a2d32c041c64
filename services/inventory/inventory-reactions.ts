// The inventory service in the choreographed checkout: it reserves stock for
// an order the fraud check passed, sells it once the payment is captured, and
// releases it when the payment has been reversed (the undos run backwards).
import { reaction } from '../choreography/reaction';
import { eventId } from '../choreography/saga-events';
import { forwardStep, undoStep } from '../choreography/step-outcome';
import type { InventoryService } from './inventory-service';

export function inventoryReactions(inventory: InventoryService) {
  const key = (orderId: string, step: string) => `${orderId}:${step}`;
  return [
    reaction({
      name: 'inventory-reserve',
      schema: 'inventory',
      on: 'FraudChecked',
      handle: (checked, attempt) =>
        forwardStep(checked, 'reserveInventory', attempt, async () => {
          await inventory.reserve(checked.orderId, checked.order.items, key(checked.orderId, 'reserveInventory'));
          return [{ type: 'InventoryReserved', eventId: eventId(checked.orderId, 'InventoryReserved'), attempt }];
        }),
    }),
    reaction({
      name: 'inventory-commit',
      schema: 'inventory',
      on: 'PaymentCaptured',
      handle: (captured, attempt) =>
        forwardStep(captured, 'completeOrder', attempt, async () => {
          await inventory.commit(captured.orderId, key(captured.orderId, 'commitInventory'));
          return [{ type: 'InventoryCommitted', eventId: eventId(captured.orderId, 'InventoryCommitted'), attempt }];
        }),
    }),
    reaction({
      name: 'inventory-release',
      schema: 'inventory',
      on: 'PaymentReversed',
      // Safe before any reservation: it leaves a tombstone that fences off a late reserve.
      handle: (reversed, attempt) =>
        undoStep(reversed, 'reserveInventory', 'InventoryReleased', attempt, () =>
          inventory.release(reversed.orderId, key(reversed.orderId, 'releaseInventory')),
        ),
    }),
  ];
}
