// The benchmark's steps as calls to this application's services, with the
// same stores and idempotency keys `<orderId>:<step>` the saga uses.
import type { Services } from '../services';
import type { BenchInput, BenchStep } from './saga';

export const BENCH_SKU = 'BENCH-001';
/** Never runs out during a run. */
export const BENCH_STOCK = 1_000_000_000;
export const BENCH_PRICE = 1000;
export const BENCH_CUSTOMER = 'cust_bench';

/**
 * A full checkout's POST /orders: one keyboard, the test card that succeeds, an address the carrier takes as given.
 * Without `coordination` the body is the orchestrated checkout's as the API always had it (absent means orchestration).
 */
export function postOrderRequest(address: { postalCode: string; country: string }, coordination?: 'choreography'): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: BENCH_CUSTOMER,
      items: [{ sku: 'KB-001', quantity: 1 }],
      payment: { token: 'tok_visa' },
      shippingAddress: { name: 'Bench Customer', line1: '1 Load St', city: 'London', ...address },
      ...(coordination && { coordination }),
    }),
  };
}
const ITEMS = [{ sku: BENCH_SKU, quantity: 1 }];
const HOLD_SECONDS = 600;

export type StepInput = BenchInput & { failedStep?: string; reason?: string };
/** Results are small plain objects, so each engine stores and ships little. */
export type BenchSteps = Record<BenchStep, (input: StepInput) => Promise<{ ok: true }>>;

export function benchSteps({ orders, inventory, payments, shipping }: Services): BenchSteps {
  const key = (orderId: string, step: string) => `${orderId}:${step}`;
  const ok = { ok: true } as const;
  return {
    async createOrder({ orderId }) {
      await orders.create({ orderId, customerId: BENCH_CUSTOMER, items: ITEMS }, key(orderId, 'createOrder'));
      return ok;
    },
    async reserveInventory({ orderId }) {
      await inventory.reserve(orderId, ITEMS, key(orderId, 'reserveInventory'));
      return ok;
    },
    // "Charge" = authorize + capture in one step; each call keeps its own key
    // because the ledger records one movement per key.
    async chargePayment({ orderId }) {
      await payments.authorize(
        { orderId, token: 'tok_visa', amount: BENCH_PRICE, currency: 'USD', holdSeconds: HOLD_SECONDS },
        key(orderId, 'authorizePayment'),
      );
      await payments.capture(orderId, key(orderId, 'capturePayment'));
      return ok;
    },
    async createShipment({ orderId, country }) {
      await shipping.createShipment(
        orderId,
        { name: 'Bench Customer', line1: '1 Load St', city: 'London', postalCode: 'N1 9GU', country },
        key(orderId, 'createShipment'),
      );
      return ok;
    },
    async completeOrder({ orderId }) {
      await inventory.commit(orderId, key(orderId, 'commitInventory'));
      await orders.close(orderId, { status: 'COMPLETED' }, key(orderId, 'completeOrder'));
      return ok;
    },
    async refundPayment({ orderId }) {
      await payments.refund(orderId, key(orderId, 'refundPayment'));
      return ok;
    },
    async releaseInventory({ orderId }) {
      await inventory.release(orderId, key(orderId, 'releaseInventory'));
      return ok;
    },
    async closeOrderCompensated({ orderId, failedStep, reason }) {
      await orders.close(
        orderId,
        { status: 'COMPENSATED', failedStep: failedStep ?? 'createShipment', reason: reason ?? 'rejected' },
        key(orderId, 'closeOrder'),
      );
      return ok;
    },
  };
}
