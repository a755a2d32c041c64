import { toTemporal } from '../activities/to-temporal';
import type { Services } from '../services';
import { BENCH_ACTIVITY_PREFIX, type BenchActivities } from './temporal-workflows';
import { benchSteps, type BenchSteps } from './workload';
import { BusinessError } from '../services/errors';

/** The benchmark's steps as Temporal activities, named `bench_<step>` beside the checkout's own. */
export function createBenchActivities(services: Services): BenchActivities {
  return asActivities(benchSteps(services));
}

/**
 * The same steps doing no work: no database, nothing but the answer. Run by the
 * same workflow, they measure what the engine alone costs per saga on this
 * machine, the ceiling no service could lift. The carrier still rejects XX, so
 * the compensating path is part of it too.
 */
export function createNoopBenchActivities(): BenchActivities {
  const ok = async () => ({ ok: true }) as const;
  const steps: BenchSteps = {
    createOrder: ok,
    reserveInventory: ok,
    chargePayment: ok,
    createShipment: async ({ country }) => {
      if (country === 'XX') throw new BusinessError('address_rejected', 'Carrier does not ship to country XX');
      return { ok: true };
    },
    completeOrder: ok,
    refundPayment: ok,
    releaseInventory: ok,
    closeOrderCompensated: ok,
  };
  return asActivities(steps);
}

function asActivities(steps: BenchSteps): BenchActivities {
  return Object.fromEntries(
    Object.entries(steps).map(([name, fn]) => [`${BENCH_ACTIVITY_PREFIX}${name}`, (input: Parameters<typeof fn>[0]) => toTemporal(() => fn(input))]),
  ) as BenchActivities;
}
