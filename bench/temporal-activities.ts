import { toTemporal } from '../activities/to-temporal';
import type { Services } from '../services';
import { BENCH_ACTIVITY_PREFIX, type BenchActivities } from './temporal-workflows';
import { benchSteps } from './workload';

/** The benchmark's steps as Temporal activities, named `bench_<step>` beside the checkout's own. */
export function createBenchActivities(services: Services): BenchActivities {
  const steps = benchSteps(services);
  return Object.fromEntries(
    Object.entries(steps).map(([name, fn]) => [`${BENCH_ACTIVITY_PREFIX}${name}`, (input: Parameters<typeof fn>[0]) => toTemporal(() => fn(input))]),
  ) as BenchActivities;
}
