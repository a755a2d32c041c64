import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { workflowTraceSinks } from '../../lib/tracing';
import type { BuildRef } from '../../lib/worker-deployment';
import { createCheckoutWorker, WORKFLOW_INTERCEPTOR_MODULES } from '../../worker';
import type { TestStack } from './test-stack';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

/**
 * The checkout workflows bundled with extra workflow interceptor modules and,
 * optionally, another module in place of `@temporalio/workflow`: how the tests
 * build a worker that behaves as under load, or as an older deployment did.
 */
export function bundleCheckout(opts: { interceptorModules?: string[]; workflowModule?: string }): Promise<WorkflowBundle> {
  const { workflowModule } = opts;
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES, ...(opts.interceptorModules ?? [])],
    logger: quiet,
    ...(workflowModule && {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), '@temporalio/workflow$': workflowModule } },
      }),
    }),
  });
}

/** The saga's history so far replays on `bundle` (the run's bundle unless told otherwise): no nondeterminism. */
export async function expectReplays(
  handle: WorkflowHandle,
  bundle: WorkerOptions['workflowBundle'] = { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
): Promise<void> {
  await expect(
    Worker.runReplayHistory({ workflowBundle: bundle!, sinks: workflowTraceSinks(undefined) }, await handle.fetchHistory(), handle.workflowId),
  ).resolves.toBeUndefined();
}

/**
 * A checkout worker on the stack's task queue, with the run's bundle unless told otherwise; unversioned, or a
 * version of a deployment (worker.ts, `deployment`). Stop it to take it away.
 */
export async function startWorker(stack: TestStack, bundle?: WorkerOptions['workflowBundle'], deployment?: BuildRef): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await createCheckoutWorker({
    connection,
    namespace: 'default',
    taskQueue: stack.taskQueue,
    db: stack.db,
    services: stack.services,
    workflowBundle: bundle ?? { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    deployment,
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** A checkout worker in a process of its own (test/support/worker-process.ts), for a test to SIGKILL. */
export function startWorkerProcess(
  stack: TestStack,
  bundle: WorkflowBundle,
  opts: { crashAfterReserving?: boolean; slowCreateOrderMs?: number } = {},
): { kill(): void; exited: Promise<void> } {
  const bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'checkout-worker-')), 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const root = path.resolve(__dirname, '..', '..');
  const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(__dirname, 'worker-process.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: stack.dbUrl,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      WORKFLOW_BUNDLE: bundlePath,
      ...(opts.crashAfterReserving && { CRASH_AFTER_RESERVING: '1' }),
      ...(opts.slowCreateOrderMs && { SLOW_CREATE_ORDER_MS: String(opts.slowCreateOrderMs) }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    // Its own process group: SIGKILL takes the node process that tsx runs, too.
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { kill: () => process.kill(-child.pid!, 'SIGKILL'), exited };
}
