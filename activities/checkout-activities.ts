import { Context } from '@temporalio/activity';
import type { Services } from '../services';
import type { OrderOutcome } from '../services/order/order-service';
import type { Address, LineItem, UndoName } from '../domain/checkout-vocabulary';
import { heartbeating, toTemporal } from './to-temporal';

type Keyed = { orderId: string; key: string };

/**
 * The saga's activities: thin adapters from Temporal to the services. Each
 * call carries an idempotency key derived from the workflow, so a retry after
 * a lost response finds the first result instead of doing the work again.
 */
export function createCheckoutActivities({ orders, inventory, payments, shipping, fraud }: Services) {
  return {
    createOrder: ({ orderId, key, customerId, items }: Keyed & { customerId: string; items: LineItem[] }) =>
      toTemporal(() => orders.create({ orderId, customerId, items }, key)),

    closeOrder: ({ orderId, key, outcome }: Keyed & { outcome: OrderOutcome }) =>
      toTemporal(async () => ({ order: await orders.close(orderId, outcome, key) })),

    holdOrderForOperator: ({ orderId, failure }: { orderId: string; failure: { failedStep: string; reason: string } }) =>
      toTemporal(async () => ({ order: await orders.holdForOperator(orderId, failure) })),

    checkFraud: ({ customerId, total, currency }: { customerId: string; total: number; currency: string }) =>
      toTemporal(() => fraud.assess({ customerId, total, currency })),

    reserveInventory: ({ orderId, key, items }: Keyed & { items: LineItem[] }) => toTemporal(() => inventory.reserve(orderId, items, key)),

    commitInventory: ({ orderId, key }: Keyed) => toTemporal(() => inventory.commit(orderId, key)),

    releaseInventory: ({ orderId, key }: Keyed) => toTemporal(() => inventory.release(orderId, key)),

    authorizePayment: ({ orderId, key, token, amount, currency, holdSeconds }: Keyed & AuthorizeArgs) =>
      toTemporal(async () => {
        // The previous attempt may have timed out after the provider
        // authorized: look the payment up by its key before asking again.
        if (Context.current().info.attempt > 1) {
          const earlier = await payments.findByKey(key);
          if (earlier && earlier.status !== 'DECLINED') return earlier;
        }
        return heartbeating(() => payments.authorize({ orderId, token, amount, currency, holdSeconds }, key));
      }),

    renewPaymentHold: ({ orderId, key }: Keyed) => toTemporal(() => payments.renew(orderId, key)),

    capturePayment: ({ orderId, key }: Keyed) => toTemporal(() => payments.capture(orderId, key)),

    /** Voids an authorization or refunds a capture: the mildest remedy that works. */
    reversePayment: ({ orderId, key }: Keyed) => toTemporal(() => payments.reverse(orderId, key)),

    createShipment: ({ orderId, key, address }: Keyed & { address: Address }) =>
      toTemporal(() => heartbeating(() => shipping.createShipment(orderId, address, key))),

    cancelShipment: ({ orderId, key }: Keyed) => toTemporal(() => shipping.cancelShipment(orderId, key)),
  };
}

type AuthorizeArgs = { token: string; amount: number; currency: string; holdSeconds: number };

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;

// Every undo the vocabulary names is an activity the workflow can schedule by that name.
type _EveryUndoIsAnActivity = Pick<CheckoutActivities, UndoName>;
