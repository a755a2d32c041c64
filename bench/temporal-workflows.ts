// Workflows the benchmark's worker runs: the application's own (checkout, for
// the full-checkout path through the API) and benchSaga, the 5-step workload.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { runBenchSaga, type BenchInput, type BenchResult, type BenchStep } from './saga';

export * from '../workflows';

export const BENCH_ACTIVITY_PREFIX = 'bench_';
type StepFn = (input: BenchInput & { failedStep?: string; reason?: string }) => Promise<object>;
export type BenchActivities = Record<`${typeof BENCH_ACTIVITY_PREFIX}${BenchStep}`, StepFn>;

// Same policy as the checkout's forward steps.
const options = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
} as const;
const remote = proxyActivities<BenchActivities>(options);
const local = proxyLocalActivities<BenchActivities>(options);

export async function benchSaga(input: BenchInput & { localActivities?: boolean }): Promise<BenchResult> {
  const acts = input.localActivities ? local : remote;
  return runBenchSaga({ orderId: input.orderId, country: input.country }, (step, arg) => acts[`${BENCH_ACTIVITY_PREFIX}${step}`](arg));
}
