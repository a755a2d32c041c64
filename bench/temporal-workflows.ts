// Workflows the benchmark's worker runs: the application's own (checkout, for
// the full-checkout path through the API) and benchSaga, the 5-step workload.
import { condition, defineUpdate, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
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

/**
 * Answers once the order exists: with Update-with-Start, the caller's start
 * returns at acceptance (the order row written) instead of at the start.
 */
export const acceptedUpdate = defineUpdate<void>('accepted');

export async function benchSaga(input: BenchInput & { localActivities?: boolean }): Promise<BenchResult> {
  const acts = input.localActivities ? local : remote;
  let accepted = false;
  setHandler(acceptedUpdate, () => condition(() => accepted));
  return runBenchSaga({ orderId: input.orderId, country: input.country }, async (step, arg) => {
    const result = await acts[`${BENCH_ACTIVITY_PREFIX}${step}`](arg);
    if (step === 'createOrder') accepted = true;
    return result;
  });
}
