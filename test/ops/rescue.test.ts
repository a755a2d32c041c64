import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { audit } from '../../audit/audit';
import { ManagedProcess } from '../../chaos/managed-process';
import { sleep } from '../../lib/backoff';
import { DEV_OPERATOR_TOKEN } from '../../lib/config';
import { rescueStuckSagas } from '../../ops/rescue';
import { workflowTaskTrouble } from '../../lib/workflow-task-health';
import { freePort } from '../../scripts/dev-server';
import { cancelUpdate, checkout, resolveUpdate } from '../../workflows';
import { commandsByTask } from '../support/history-tasks';
import { startWithQueryOnFirstTask } from '../support/query-on-first-task';
import { finalState } from '../support/run-scenario';
import { SCENARIOS, SCENARIO_STOCK, untilStatus } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';
import { expectReplays, startWorker } from '../support/workers';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { retiredBuildPath } from '../../lib/workflow-bundle';
import { setCurrentBuild } from '../../lib/worker-deployment';

// npm run ops -- rescue, on a real server, against sagas stuck the way six of
// the 2026-11-30 chaos run were: written by the deployment before patch
// 'versions-first' under load (a query on the first task split createOrder's
// marker from its result), then replayed by the build with that patch, which
// fails on a nondeterminism error for good. Both were builds that shared their
// sagas, as builds did before Worker Versioning (docs/deploys.md): the last of
// them is kept in builds/, and the one before it as the bundle in fixtures/,
// built from the last one's code with patched() answering false for
// versions-first and the four patches after it, and with queries held for a
// while, as on a loaded worker (what splits the first task).
let stack: TestStack;
const LAST_PATCHED_BUILD = '52853da0f209f753';
const oldDeployment = { codePath: require.resolve('./fixtures/before-versions-first.js') };
const current = { codePath: retiredBuildPath(LAST_PATCHED_BUILD)! };
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.stop());

/**
 * An order the carrier never answers, run on the old deployment until
 * `status`, with its first task split. The next worker to replay it fails.
 */
async function onOldDeployment(opts: { token: string; until: 'CREATING_SHIPMENT' | 'FAILED_NEEDS_MANUAL'; drive?: (h: Handle) => Promise<void> }) {
  const sku = uniqueId('SKU');
  await stack.services.inventory.upsertProduct({ sku, name: 'Rescue', price: 2500, stock: SCENARIO_STOCK });
  const orderId = uniqueId('ord');
  const input = { ...SCENARIOS['cancelled-by-customer'].input(orderId, sku), payment: { token: opts.token } };
  const { handle, answered } = await startWithQueryOnFirstTask(stack, input);
  const old = await startWorker(stack, oldDeployment);
  try {
    await answered;
    await opts.drive?.(handle);
    await untilStatus(handle, opts.until);
  } finally {
    await old.stop();
  }
  // createOrder's marker in the first task, what the code did with its result in the second.
  const [task1, task2] = commandsByTask(await handle.fetchHistory());
  expect(task1).toContain('MARKER_RECORDED core_local_activity');
  expect(task2).toContain('MARKER_RECORDED core_patch');
  return { orderId, handle };
}
type Handle = Awaited<ReturnType<typeof startWithQueryOnFirstTask>>['handle'];

async function untilStuck(handle: Handle): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
    if ((await workflowTaskTrouble(stack.client, { workflowId: handle.workflowId }))?.cause === 'non_deterministic_error') return;
  }
  throw new Error(`${handle.workflowId} did not get stuck`);
}

/** The order's rows in the order, inventory and payment stores, whole: a repeated step must leave them as they were. */
const rows = async (orderId: string) => {
  const read = (table: string, column: string) =>
    stack.db.$queryRawUnsafe<{ row: unknown }[]>(`SELECT to_jsonb(t) AS row FROM ${table} t WHERE ${column} = $1`, orderId);
  return {
    order: await read('orders.orders', 'id'),
    reservation: await read('inventory.reservations', 'order_id'),
    payment: await read('payments.payments', 'order_id'),
    ledger: await read('payments.ledger_entries', 'order_id'),
  };
};
const ledger = async (orderId: string) => (await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind);
const rescue = (dryRun: boolean) => rescueStuckSagas({ client: stack.client, taskQueue: stack.taskQueue, workflowBundle: current, dryRun, catchUpMs: 20_000 });

describe('npm run ops -- rescue', () => {
  it('resets a stuck saga to its first task; its steps find their first results, and the customer can cancel it', async () => {
    const { orderId, handle } = await onOldDeployment({ token: 'tok_visa', until: 'CREATING_SHIPMENT' });
    const before = await rows(orderId);

    const deploymentName = `rescue-${randomBytes(4).toString('hex')}`;
    // The last patched build's worker, as a process (a version of a deployment of its own), with the SDK core's metrics.
    const metricsPort = await freePort();
    const logDir = mkdtempSync(path.join(tmpdir(), 'rescue-test-'));
    const worker = new ManagedProcess(
      'worker',
      'worker.ts',
      {
        ...process.env,
        DATABASE_URL: stack.dbUrl,
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        TEMPORAL_METRICS_PORT: String(metricsPort),
        WORKER_METRICS_PORT: '0',
        NATS_STREAM: `RESCUE_${randomBytes(4).toString('hex')}`,
        DEPLOYMENT_NAME: deploymentName,
        BUILD_ID: LAST_PATCHED_BUILD,
        OPERATOR_TOKEN: DEV_OPERATOR_TOKEN,
        NODE_ENV: 'development',
      },
      path.join(logDir, 'worker.log'),
    );
    worker.start();
    try {
      // The customer cancels: the saga must be rebuilt from its history, and that fails.
      const cancel = handle.executeUpdate(cancelUpdate).catch((err: Error) => err);
      await untilStuck(handle);

      const nondeterminism = await until(async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return /^temporal_workflow_task_execution_failed\{[^}]*failure_reason="NonDeterminismError"[^}]*\} [1-9]/m.test(text);
      });
      expect(nondeterminism).toBe(true);
      const audited = await audit(stack.services, { maxOpenSeconds: 3600, notificationGraceSeconds: 3600, recheckAfterMs: 10 }, stack);
      expect(audited.violations).toEqual([
        expect.objectContaining({ invariant: 'saga_stuck', subject: `order ${orderId}`, detail: expect.stringContaining('non_deterministic_error') }),
      ]);

      // A dry run says what it would do, and does nothing. Event 4 ends the first task.
      const [plan] = await rescue(true);
      expect(plan).toMatchObject({ workflowId: handle.workflowId, resetEventId: 4, decisions: [] });
      expect(plan.newRunId).toBeUndefined();
      expect((await handle.describe()).runId).toBe(handle.firstExecutionRunId);

      const [done] = await rescue(false);
      expect(done).toMatchObject({ workflowId: handle.workflowId, resetEventId: 4, newRunId: expect.any(String) });
      expect(await cancel).toBeInstanceOf(Error); // the stuck run is gone, and its pending update with it

      // The new run redid createOrder, reserveInventory and authorizePayment: each found the first call's result.
      const rescued = stack.client.workflow.getHandle<typeof checkout>(handle.workflowId, done.newRunId);
      await untilStatus(rescued, 'CREATING_SHIPMENT');
      expect(await rows(orderId)).toEqual(before);
      await rescued.executeUpdate(cancelUpdate);
      expect(await finalState(rescued)).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
      expect(await ledger(orderId)).toEqual(['AUTHORIZE', 'VOID']);
      expect((await audit(stack.services, { maxOpenSeconds: 3600, notificationGraceSeconds: 3600 }, stack)).violations).toEqual([]);
      await expectReplays(rescued, current);
    } finally {
      await worker.stop();
      // The worker made its build current on the task queue, which sends every new saga there, unversioned ones
      // too: hand the queue back to the unversioned workers (an empty build id) for the next test's old deployment.
      await setCurrentBuild(stack.client, { deploymentName, buildId: '' });
    }
  });

  it('hands a reset saga the decisions its stuck run had accepted, and a saga that finds its steps compensated undoes them all', async () => {
    // The customer cancelled on the old deployment; the refund was refused, so it waits for an operator.
    const { orderId, handle } = await onOldDeployment({
      token: 'tok_refund_fails',
      until: 'FAILED_NEEDS_MANUAL',
      drive: async (h) => {
        await untilStatus(h, 'CREATING_SHIPMENT');
        await h.executeUpdate(cancelUpdate);
      },
    });
    const worker = await startWorker(stack, current);
    try {
      // The operator's retry needs a replay, which fails.
      const retry = handle.executeUpdate(resolveUpdate, { args: [{ action: 'retry', note: 'try again' }] }).catch((err: Error) => err);
      await untilStuck(handle);

      const [done] = await rescue(false);
      await retry;
      // The stuck run had released the stock: the new run's reservation is refused ("fenced"), and it undoes every step.
      // The cancel it had accepted is not needed any more: the saga rolled back before it got there.
      expect(done.decisions).toEqual([
        {
          name: 'cancel',
          atStatus: 'CREATING_SHIPMENT',
          outcome: expect.stringMatching(/^not re-sent: the saga is (COMPENSATING|FAILED_NEEDS_MANUAL), past CREATING_SHIPMENT$/),
        },
      ]);
      const rescued = stack.client.workflow.getHandle<typeof checkout>(handle.workflowId, done.newRunId);
      await untilStatus(rescued, 'FAILED_NEEDS_MANUAL');
      expect(await stack.services.orders.orderFor(orderId)).toMatchObject({ status: 'FAILED_NEEDS_MANUAL' });
      await rescued.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'voided by phone' }] });
      expect(await finalState(rescued)).toMatchObject({
        status: 'RESOLVED_MANUALLY',
        failure: { step: 'reserveInventory', reason: 'fenced' },
        failedCompensations: [{ step: 'authorizePayment', reason: 'reversal_rejected' }],
      });
      expect(await stack.services.inventory.reservationFor(orderId)).toMatchObject({ status: 'RELEASED' });
      expect(await stack.services.shipping.shipmentFor(orderId)).toMatchObject({ status: 'CANCELLED' });
      await expectReplays(rescued, current);
    } finally {
      await worker.stop();
    }
  });

  itLeavesTheStoresConsistent(() => stack.services);
});

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) if (await check()) return true;
  return false;
}
