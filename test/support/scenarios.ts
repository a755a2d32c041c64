import type { CheckoutInput } from '../../workflows/checkout-types';

export const ADDRESS = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

/** Stock for a scenario's product: the out-of-stock order asks for more than this. */
export const SCENARIO_STOCK = 10;

/**
 * The saga's scenarios, each triggered the way a user would trigger it: by a
 * test card token, a stock level or an address. Shared by the workflow tests
 * and by `npm run histories:record`, so every recorded history is a scenario
 * the tests also check.
 */
export const SCENARIOS = {
  'happy-path': (orderId: string, sku: string): CheckoutInput => order(orderId, sku, 1, 'tok_visa'),
  'card-declined': (orderId: string, sku: string): CheckoutInput => order(orderId, sku, 1, 'tok_declined'),
  'out-of-stock': (orderId: string, sku: string): CheckoutInput => order(orderId, sku, SCENARIO_STOCK + 1, 'tok_visa'),
  'shipping-rejected': (orderId: string, sku: string): CheckoutInput => ({
    ...order(orderId, sku, 1, 'tok_visa'),
    shippingAddress: { ...ADDRESS, country: 'XX' },
  }),
  'flaky-payment': (orderId: string, sku: string): CheckoutInput => order(orderId, sku, 1, 'tok_flaky'),
} as const;

export type ScenarioName = keyof typeof SCENARIOS;

function order(orderId: string, sku: string, quantity: number, token: string): CheckoutInput {
  return { orderId, customerId: 'cust_1', items: [{ sku, quantity }], payment: { token }, shippingAddress: ADDRESS };
}
