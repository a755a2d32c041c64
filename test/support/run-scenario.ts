import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Services } from '../../services';
import { checkout } from '../../workflows';
import type { CheckoutState } from '../../workflows/checkout-types';
import { CUSTOMER_ID, ORDER_STATUS } from '../../workflows/search-attributes';
import { SCENARIOS, SCENARIO_STOCK, type Scenario, type ScenarioName } from './scenarios';
import { uniqueId } from './service-db';

export type ScenarioRun = { orderId: string; sku: string; handle: WorkflowHandle<typeof checkout>; state: CheckoutState };

/** Runs one scenario through a real worker and waits for the saga's final state. */
export async function runScenario(env: { client: Client; taskQueue: string; services: Services }, name: ScenarioName): Promise<ScenarioRun> {
  const sku = uniqueId('SKU');
  await env.services.inventory.upsertProduct({ sku, name: `Product for ${name}`, price: 2500, stock: SCENARIO_STOCK });
  const orderId = uniqueId('ord');
  const scenario: Scenario = SCENARIOS[name];
  const input = scenario.input(orderId, sku);
  const handle = await env.client.workflow.start(checkout, {
    workflowId: `order-${orderId}`,
    taskQueue: env.taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: ORDER_STATUS, value: 'PENDING' },
      { key: CUSTOMER_ID, value: input.customerId },
    ],
  });
  await scenario.drive?.(handle);
  return { orderId, sku, handle, state: await finalState(handle) };
}

/** The saga's final state, whether it returned it or failed with it. */
export async function finalState(handle: WorkflowHandle<typeof checkout>): Promise<CheckoutState> {
  try {
    return await handle.result();
  } catch (err) {
    const details = err instanceof WorkflowFailedError ? (err.cause as { details?: unknown[] })?.details : undefined;
    if (!details?.[0]) throw err;
    return details[0] as CheckoutState;
  }
}
