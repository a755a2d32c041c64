import { randomBytes } from 'node:crypto';
import { buildsOf } from '../../chaos/rolling-deploy';
import { sleep } from '../../lib/backoff';
import { makeCurrentOnceKnown, pinnedSagas } from '../../lib/worker-deployment';
import { retiredBuildPath } from '../../lib/workflow-bundle';
import { moveSagas } from '../../ops/move-sagas';
import { checkout, resolveUpdate } from '../../workflows';
import type { Resolution } from '../../workflows/checkout-types';
import { ORDER_STATUS } from '../../workflows/search-attributes';
import { finalState } from '../support/run-scenario';
import { SCENARIOS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { startWorker } from '../support/workers';

// npm run ops -- deploy move, on a real server with versioned workers: a saga
// parked in FAILED_NEEDS_MANUAL moves to another build only if its history
// replays there; otherwise it stays pinned, and its build's workers decide it.
let stack: TestStack;
const deploymentName = `move-${randomBytes(4).toString('hex')}`;
const current = { codePath: process.env.TEST_WORKFLOW_BUNDLE! };
const LAST_PATCHED_BUILD = '52853da0f209f753';
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.stop());

/** A worker of `buildId`, made current once the server knows it (its first poll). */
async function deployed(buildId: string, bundle: { codePath: string }) {
  const worker = await startWorker(stack, bundle, { deploymentName, buildId });
  await makeCurrentOnceKnown(stack.client, { deploymentName, buildId });
  return worker;
}

/** A saga whose refund is refused: it waits for an operator. */
async function parkedSaga() {
  const sku = uniqueId('SKU');
  await stack.services.inventory.upsertProduct({ sku, name: 'Move', price: 2500, stock: SCENARIO_STOCK });
  const orderId = uniqueId('ord');
  const input = SCENARIOS['refund-fails-manual-resolution'].input(orderId, sku);
  const handle = await stack.client.workflow.start(checkout, {
    workflowId: `order-${orderId}`,
    taskQueue: stack.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: ORDER_STATUS, value: 'PENDING' }],
  });
  await untilStatus(handle, 'FAILED_NEEDS_MANUAL', 30_000);
  // Visibility reads the status from the search attribute, a moment after the query answers it.
  for (
    let i = 0;
    i < 40 && (await stack.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND OrderStatus = 'FAILED_NEEDS_MANUAL'`)).count === 0;
    i++
  ) {
    await sleep(250);
  }
  return handle;
}

const move = (from: string, to: string, toBundle: { codePath: string }) =>
  moveSagas({ client: stack.client, deploymentName, from, to, toBundle, status: 'FAILED_NEEDS_MANUAL', dryRun: false });
const resolve = { args: [{ action: 'mark-resolved', note: 'refunded by bank transfer' }] as [Resolution] };

describe('npm run ops -- deploy move', () => {
  it('moves a parked saga to a build that replays its history, and the operator decision runs there', async () => {
    const a = await deployed('a', current);
    const handle = await parkedSaga();
    const b = await deployed('b', current);
    try {
      expect(await move('a', 'b', current)).toEqual([{ workflowId: handle.workflowId, moved: true, why: 'its history replays on build b' }]);
      // Build a's workers go: only b can take the decision.
      await a.stop();
      await handle.executeUpdate(resolveUpdate, resolve);
      expect(await finalState(handle)).toMatchObject({ status: 'RESOLVED_MANUALLY' });
      expect(buildsOf(await handle.fetchHistory())).toEqual({ first: 'a', last: 'b' });
    } finally {
      await a.stop().catch(() => undefined);
      await b.stop();
    }
  });

  it('leaves a saga whose history the target build cannot replay on its build, which decides it', async () => {
    const old = await deployed(LAST_PATCHED_BUILD, { codePath: retiredBuildPath(LAST_PATCHED_BUILD)! });
    const handle = await parkedSaga();
    const now = await deployed('c', current);
    try {
      const [stays] = await move(LAST_PATCHED_BUILD, 'c', current);
      expect(stays).toMatchObject({ workflowId: handle.workflowId, moved: false, why: expect.stringContaining('does not replay on build c') });
      expect(await pinnedSagas(stack.client, { deploymentName, buildId: LAST_PATCHED_BUILD })).toBe(1);
      await handle.executeUpdate(resolveUpdate, resolve);
      expect(await finalState(handle)).toMatchObject({ status: 'RESOLVED_MANUALLY' });
      expect(buildsOf(await handle.fetchHistory())).toEqual({ first: LAST_PATCHED_BUILD, last: LAST_PATCHED_BUILD });
    } finally {
      await old.stop();
      await now.stop();
    }
  });
});
