import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { sleep } from '../../lib/backoff';
import { commandsByTask } from '../support/history-tasks';
import { localActivityThenPatch, statusQuery } from './fixtures/local-activity-then-patch';

// A reproduction of the defect behind the stuck sagas of 2026-11-30, in the
// SDK (sdk-core, as shipped in @temporalio/worker 1.24), without any of this
// app's code: a local activity, then patched(). See docs, "Why sagas got stuck".
//
// When a query arrives with a workflow task (the server attaches queries to
// the task when the workflow has one scheduled or running), core answers it by
// completing the task. If a local activity resolved while the query was being
// answered, core puts that activity's marker into the completion and forces a
// new task, but the workflow code sees the result only in the next task. On
// replay, core's lookahead delivers the result in the first task, where the
// patch marker of the second is not yet known: patched() answers false, where
// it answered true the first time.

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
const address = () => process.env.TEMPORAL_ADDRESS!;
let bundle: WorkflowBundle;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/local-activity-then-patch'), logger: quiet });
  connection = await Connection.connect({ address: address() });
  client = new Client({ connection });
});
afterAll(() => connection?.close());

const activities = { quick: async () => 'done', slow: (ms: number) => sleep(ms).then(() => 'done') };

async function run(opts: { activityMs: number; queryMs: number; queryFirst: boolean; workflowTaskTimeout?: Duration }) {
  const taskQueue = `la-split-${randomBytes(4).toString('hex')}`;
  // No worker polls yet, so the first workflow task stays scheduled.
  const handle = await client.workflow.start(localActivityThenPatch, {
    taskQueue,
    workflowId: taskQueue,
    args: [{ activityMs: opts.activityMs, queryMs: opts.queryMs }],
    workflowTaskTimeout: opts.workflowTaskTimeout,
  });
  // A query sent now is held by the server and handed to the worker with that first task.
  const query = opts.queryFirst ? handle.query(statusQuery) : undefined;
  await sleep(500);
  const nativeConnection = await NativeConnection.connect({ address: address() });
  try {
    const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: bundle, activities });
    const result = await worker.runUntil(handle.result());
    await query;
    return { result, history: await handle.fetchHistory(), workflowId: handle.workflowId };
  } finally {
    await nativeConnection.close();
  }
}

describe('a local activity, then patched() (SDK reproduction)', () => {
  it('a query answered while the local activity resolves splits its marker from its result, and the history no longer replays', async () => {
    const { result, history, workflowId } = await run({ activityMs: 0, queryMs: 1500, queryFirst: true });
    expect(result).toBe(true);

    // Task 1 completed with the local activity's marker; the patch marker went into task 2.
    const [first, second] = commandsByTask(history);
    expect(first).toContain('MARKER_RECORDED core_local_activity');
    expect(first).not.toContain('MARKER_RECORDED core_patch');
    expect(second).toContain('MARKER_RECORDED core_patch');

    const replay = Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/Non-deprecated patch marker encountered for change my-change/);
  });

  it('a local activity that outlasts the workflow task heartbeats the task, but its marker and its result stay together', async () => {
    // Core completes the task at 80% of its timeout while the activity runs,
    // and asks for a new one; the marker comes with the task that saw the result.
    const { result, history, workflowId } = await run({ activityMs: 2500, queryMs: 0, queryFirst: false, workflowTaskTimeout: '1s' });
    expect(result).toBe(true);
    const tasks = commandsByTask(history);
    expect(tasks.length).toBeGreaterThan(2);
    const withMarker = tasks.findIndex((commands) => commands.includes('MARKER_RECORDED core_local_activity'));
    expect(withMarker).toBeGreaterThan(0);
    expect(tasks[withMarker]).toContain('MARKER_RECORDED core_patch');

    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId)).resolves.toBeUndefined();
  });
});
