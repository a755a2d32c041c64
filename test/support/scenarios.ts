import type { WorkflowHandle } from '@temporalio/client';
import { cancelUpdate, resolveUpdate, statusQuery, type checkout } from '../../workflows';
import type { CheckoutInput, CheckoutStatus, Deadlines } from '../../workflows/checkout-types';

export const ADDRESS = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

/** Stock for a scenario's product: the out-of-stock order asks for more than this. */
export const SCENARIO_STOCK = 10;

/** Deadlines in seconds, so that timer scenarios finish in a test run. */
const FAST: Deadlines = { orderTtlSeconds: 60, shippingSlaSeconds: 30, paymentHoldSeconds: 60 };

export type Scenario = {
  input: (orderId: string, sku: string) => CheckoutInput;
  /** What an outside actor (customer, operator) does while the saga runs. */
  drive?: (handle: WorkflowHandle<typeof checkout>) => Promise<void>;
};

/**
 * The saga's scenarios, each triggered the way a user would trigger it: by a
 * test card token, a stock level, an address, a deadline, or a call to the
 * API. Shared by the workflow tests and by `npm run histories:record`, so
 * every recorded history is a scenario the tests also check.
 */
export const SCENARIOS = {
  'happy-path': { input: (o, s) => order(o, s) },
  'card-declined': { input: (o, s) => order(o, s, { token: 'tok_declined' }) },
  'out-of-stock': { input: (o, s) => order(o, s, { quantity: SCENARIO_STOCK + 1 }) },
  'shipping-rejected': { input: (o, s) => order(o, s, { address: { country: 'XX' } }) },
  'flaky-payment': { input: (o, s) => order(o, s, { token: 'tok_flaky' }) },
  'fraud-suspected': { input: (o, s) => order(o, s, { customerId: 'cust_fraud' }) },
  'lost-payment-response': { input: (o, s) => order(o, s, { token: 'tok_lost_response' }) },
  'shipping-timeout': {
    input: (o, s) => order(o, s, { address: { postalCode: '00000' }, deadlines: { shippingSlaSeconds: 2 } }),
  },
  'order-timeout': {
    input: (o, s) => order(o, s, { address: { postalCode: '00000' }, deadlines: { orderTtlSeconds: 2 } }),
  },
  'payment-hold-renewed': {
    input: (o, s) => order(o, s, { address: { postalCode: '00001' }, deadlines: { paymentHoldSeconds: 2 } }),
  },
  'cancelled-by-customer': {
    input: (o, s) => order(o, s, { address: { postalCode: '00000' } }),
    drive: async (handle) => {
      await untilStatus(handle, 'CREATING_SHIPMENT');
      await handle.executeUpdate(cancelUpdate);
    },
  },
  'refund-fails-manual-resolution': {
    input: (o, s) => order(o, s, { token: 'tok_refund_fails', address: { country: 'XX' } }),
    drive: async (handle) => {
      await untilStatus(handle, 'FAILED_NEEDS_MANUAL');
      await handle.executeUpdate(resolveUpdate, { args: [{ action: 'retry', note: 'provider says try again' }] });
      await untilStatus(handle, 'FAILED_NEEDS_MANUAL');
      await handle.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'refunded by bank transfer, ticket 42' }] });
    },
  },
  // `temporal workflow cancel`: Temporal's own cancellation of the run, not the customer's update.
  'cancelled-run': {
    input: (o, s) => order(o, s, { address: { postalCode: '00000' } }),
    drive: async (handle) => {
      await untilStatus(handle, 'CREATING_SHIPMENT');
      await handle.cancel();
    },
  },
  // FAILED: the authorization's retries run out. They take 18 to 36 s; a TTL far
  // beyond them keeps the order from timing out first, which would compensate it.
  'payment-provider-down': {
    input: (o, s) => order(o, s, { token: 'tok_provider_down', deadlines: { orderTtlSeconds: 600 } }),
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export async function untilStatus(handle: WorkflowHandle<typeof checkout>, status: CheckoutStatus, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await handle.query(statusQuery)).status !== status) {
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} did not reach ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function order(
  orderId: string,
  sku: string,
  opts: { customerId?: string; token?: string; quantity?: number; address?: Partial<typeof ADDRESS>; deadlines?: Partial<Deadlines> } = {},
): CheckoutInput {
  return {
    orderId,
    customerId: opts.customerId ?? 'cust_1',
    items: [{ sku, quantity: opts.quantity ?? 1 }],
    payment: { token: opts.token ?? 'tok_visa' },
    shippingAddress: { ...ADDRESS, ...opts.address },
    deadlines: { ...FAST, ...opts.deadlines },
  };
}
