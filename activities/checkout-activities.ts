import type { Services } from '../services';
import type { OrderOutcome } from '../services/order/order-service';
import type { Address, LineItem } from '../workflows/checkout-types';
import { toTemporal } from './to-temporal';

type Keyed = { orderId: string; key: string };

/**
 * The saga's activities: thin adapters from Temporal to the services. Each
 * call carries an idempotency key derived from the workflow, so a retry after
 * a lost response finds the first result instead of doing the work again.
 */
export function createCheckoutActivities({ orders, inventory, payments, shipping }: Services) {
  return {
    createOrder: ({ orderId, key, customerId, items }: Keyed & { customerId: string; items: LineItem[] }) =>
      toTemporal(() => orders.create({ orderId, customerId, items }, key)),

    closeOrder: ({ orderId, key, outcome }: Keyed & { outcome: OrderOutcome }) =>
      toTemporal(async () => ({ order: await orders.close(orderId, outcome, key) })),

    reserveInventory: ({ orderId, key, items }: Keyed & { items: LineItem[] }) =>
      toTemporal(() => inventory.reserve(orderId, items, key)),

    commitInventory: ({ orderId, key }: Keyed) => toTemporal(() => inventory.commit(orderId, key)),

    releaseInventory: ({ orderId, key }: Keyed) => toTemporal(() => inventory.release(orderId, key)),

    chargePayment: ({ orderId, key, token, amount, currency }: Keyed & { token: string; amount: number; currency: string }) =>
      toTemporal(() => payments.charge({ orderId, token, amount, currency }, key)),

    refundPayment: ({ orderId, key }: Keyed) => toTemporal(() => payments.refund(orderId, key)),

    createShipment: ({ orderId, key, address }: Keyed & { address: Address }) =>
      toTemporal(() => shipping.createShipment(orderId, address, key)),

    cancelShipment: ({ orderId, key }: Keyed) => toTemporal(() => shipping.cancelShipment(orderId, key)),
  };
}

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;
