import type { Client } from '@temporalio/client';
import type { Services } from '../services';
import { type AuditOptions, type AwaitingOperator, type Violation, findAwaitingOperator, findViolations } from './invariants';
import { readSagas } from './saga-snapshot';
import { readStores } from './store-snapshot';

export type AuditResult = { violations: Violation[]; counts: Record<string, number>; awaitingOperator: AwaitingOperator[] };

/**
 * Reads the stores (and, given a Temporal client, the running sagas) and checks
 * every invariant. The stores are read one after another, not in one snapshot,
 * so a saga moving between two reads can look inconsistent for a moment: a
 * violation counts only if a second read a little later still shows it.
 */
export async function audit(
  services: Services,
  opts: { maxOpenSeconds: number; notificationGraceSeconds: number; recheckAfterMs?: number },
  temporal?: { client: Client; taskQueue: string },
): Promise<AuditResult> {
  const check = async () => {
    // Sagas first: a saga that ends between the two reads leaves a closed order, not a false alarm.
    const sagas = temporal && (await readSagas(temporal.client, temporal.taskQueue));
    const stores = await readStores(services);
    const options: AuditOptions = { now: new Date(), maxOpenSeconds: opts.maxOpenSeconds, notificationGraceSeconds: opts.notificationGraceSeconds, sagas };
    return { stores, options, violations: findViolations(stores, options) };
  };
  let { stores, options, violations } = await check();
  if (violations.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, opts.recheckAfterMs ?? 1000));
    const first = new Set(violations.map(keyOf));
    ({ stores, options, violations } = await check());
    violations = violations.filter((v) => first.has(keyOf(v)));
  }
  const counts: Record<string, number> = { orders: stores.orders.length, products: stores.products.length };
  for (const order of stores.orders) counts[order.status] = (counts[order.status] ?? 0) + 1;
  return { violations, counts, awaitingOperator: findAwaitingOperator(stores, options) };
}

// Not the detail: it may quote figures that move between reads (an age in seconds).
const keyOf = (v: Violation) => `${v.invariant} ${v.subject}`;
