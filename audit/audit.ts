import type { Services } from '../services';
import { type AuditOptions, type Violation, findViolations } from './invariants';
import { readStores } from './store-snapshot';

/**
 * Reads the stores and checks every invariant. The stores are read one after
 * another, not in one snapshot, so a saga moving between two reads can look
 * inconsistent for a moment: a violation counts only if a second read a
 * little later still shows it.
 */
export async function audit(
  services: Services,
  opts: { maxOpenSeconds: number; notificationGraceSeconds: number; recheckAfterMs?: number },
): Promise<{ violations: Violation[]; counts: Record<string, number> }> {
  const check = async () => {
    const stores = await readStores(services);
    const options: AuditOptions = { now: new Date(), maxOpenSeconds: opts.maxOpenSeconds, notificationGraceSeconds: opts.notificationGraceSeconds };
    return { stores, violations: findViolations(stores, options) };
  };
  let { stores, violations } = await check();
  if (violations.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, opts.recheckAfterMs ?? 1000));
    const first = new Set(violations.map(keyOf));
    ({ stores, violations } = await check());
    violations = violations.filter((v) => first.has(keyOf(v)));
  }
  const counts: Record<string, number> = { orders: stores.orders.length, products: stores.products.length };
  for (const order of stores.orders) counts[order.status] = (counts[order.status] ?? 0) + 1;
  return { violations, counts };
}

// Not the detail: it may quote figures that move between reads (an age in seconds).
const keyOf = (v: Violation) => `${v.invariant} ${v.subject}`;
