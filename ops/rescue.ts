import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { workflowTraceSinks } from '../lib/tracing';
import { ORDER_STATUS } from '../workflows/search-attributes';
import { TERMINAL_STATUSES, type CheckoutStatus } from '../workflows/checkout-types';
import { sleep } from '../lib/backoff';
import { type AcceptedDecision, decisionsAfter, historyBefore, splitTasks, workflowTasks } from './saga-history';
import { workflowTaskTrouble } from '../lib/workflow-task-health';

type History = temporal.api.history.v1.IHistory;

/** What the rescue does, or would do (dry run), for one stuck saga. */
export type Rescue = {
  workflowId: string;
  runId: string;
  /** The WorkflowTaskCompleted event it resets to: the run goes on from the task before it. */
  resetEventId: number;
  why: string;
  /** The run that the reset started; absent in a dry run. */
  newRunId?: string;
  /** Decisions (updates) the stuck run had accepted after the reset point, and what became of each. */
  decisions: { name: string; atStatus: string | null; outcome: string }[];
  /** Why it was left alone: stuck, but not on a history the code cannot replay. */
  skipped?: string;
  error?: string;
};

export type RescueOptions = {
  client: Client;
  taskQueue: string;
  /** The worker's workflow bundle: the reset point must replay against the code that will run the saga. */
  workflowBundle: WorkflowBundleOption;
  dryRun: boolean;
  /** Only these sagas; by default every stuck saga of the task queue (see workflowTaskTrouble). */
  workflowIds?: string[];
  /** How long to wait for a reset saga to reach the status at which it had accepted a decision. */
  catchUpMs?: number;
  log?: (line: string) => void;
};

/**
 * Finds sagas whose workflow task keeps failing on a nondeterminism error
 * (their history no longer replays against the code, or the worker says so),
 * resets each to the last
 * workflow task from which it can go on, and hands it the decisions the stuck
 * run had accepted once it has caught up with them.
 *
 * Going back re-runs steps the saga had done. That is safe because every step
 * calls its service with a key derived from the workflow id (which a reset
 * keeps): a repeated call returns the first call's result, and a step that was
 * compensated in between is refused ("fenced") rather than done again.
 */
export async function rescueStuckSagas(opts: RescueOptions): Promise<Rescue[]> {
  const log = opts.log ?? (() => undefined);
  const stuck = opts.workflowIds ?? (await findStuckSagas(opts.client, opts.taskQueue));
  log(`${stuck.length} stuck saga(s)${opts.dryRun ? ' (dry run: nothing is changed)' : ''}`);
  const rescues: Rescue[] = [];
  for (const workflowId of stuck) {
    const rescue = await rescueOne(workflowId, opts).catch((err: Error) => ({
      workflowId,
      runId: '',
      resetEventId: 0,
      why: '',
      decisions: [],
      error: err.message,
    }));
    log(describe(rescue, opts.dryRun));
    rescues.push(rescue);
  }
  return rescues;
}

async function rescueOne(workflowId: string, opts: RescueOptions): Promise<Rescue> {
  const { client } = opts;
  const handle = client.workflow.getHandle(workflowId);
  const { runId } = await handle.describe();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const replay = { workflowBundle: opts.workflowBundle, dataConverter: client.options.dataConverter };
  // Nondeterminism is what a reset mends: the recorded cause says so, or the
  // history does not replay. Anything else (a bug that throws) needs a fix in
  // the code, and the saga goes on by itself once it is deployed.
  const trouble = await workflowTaskTrouble(client, { workflowId, runId });
  if (trouble?.cause !== 'non_deterministic_error' && (await replays(history, workflowId, replay))) {
    const why = trouble ? `${trouble.cause}: ${trouble.message}` : 'its workflow task is not failing';
    return { workflowId, runId, resetEventId: 0, why: '', decisions: [], skipped: `its history replays (${why}): fix the code, not the history` };
  }
  const { eventId: resetEventId, why } = await resetPoint(history, workflowId, replay);
  const decisions = decisionsAfter(history, resetEventId);
  const rescue: Rescue = {
    workflowId,
    runId,
    resetEventId,
    why,
    decisions: decisions.map((d) => ({ name: d.name, atStatus: d.atStatus, outcome: 'to re-send' })),
  };
  if (opts.dryRun) return rescue;

  // Updates are not reapplied by the reset: a cancel that reached the new run
  // before it had redone its steps would find no compensation registered for
  // what the stuck run did. They are sent again once it has caught up.
  const { runId: newRunId }: temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId, runId },
    reason: `rescue: ${why}`,
    workflowTaskFinishEventId: Long.fromNumber(resetEventId),
    requestId: randomUUID(),
    resetReapplyExcludeTypes: [temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
  });
  rescue.newRunId = newRunId ?? undefined;
  for (const [i, decision] of decisions.entries()) {
    rescue.decisions[i].outcome = await resend(client, workflowId, decision, opts.catchUpMs ?? 60_000);
  }
  return rescue;
}

/**
 * The last workflow task the saga can go on from: no later than the first
 * task whose local-activity result crossed into the next task (on replay, the
 * code sees that result a task early, so every decision after it is suspect),
 * and no later than the last task whose history still replays.
 */
export async function resetPoint(history: History, workflowId: string, opts: ReplayOptions): Promise<{ eventId: number; why: string }> {
  const tasks = workflowTasks(history);
  if (tasks.length === 0) throw new Error(`${workflowId} has no completed workflow task to reset to`);
  const firstSplit = splitTasks(tasks)[0];
  const candidates = firstSplit ? tasks.filter((t) => t.completedEventId <= firstSplit.completedEventId) : tasks;
  let chosen = candidates[0];
  for (const task of candidates.slice(1)) {
    if (!(await replays(historyBefore(history, task.completedEventId), workflowId, opts))) break;
    chosen = task;
  }
  const why =
    firstSplit && chosen === firstSplit
      ? `a local activity's result crossed the workflow task that completed at event ${firstSplit.completedEventId}`
      : `the history replays up to the workflow task that completed at event ${chosen.completedEventId}`;
  return { eventId: chosen.completedEventId, why };
}

type ReplayOptions = { workflowBundle: WorkflowBundleOption; dataConverter?: DataConverter };

async function replays(history: History, workflowId: string, opts: ReplayOptions): Promise<boolean> {
  try {
    await Worker.runReplayHistory({ ...opts, sinks: workflowTraceSinks(undefined) }, history, workflowId);
    return true;
  } catch {
    return false;
  }
}

/** Sends a decision again once the reset saga is where the stuck run was when it accepted it. */
async function resend(client: Client, workflowId: string, decision: AcceptedDecision, catchUpMs: number): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + catchUpMs;
  for (;;) {
    const status = (await handle.describe()).typedSearchAttributes.get(ORDER_STATUS) as CheckoutStatus | undefined;
    if (status === decision.atStatus) break;
    if (status && passed(status, decision.atStatus)) return `not re-sent: the saga is ${status}, past ${decision.atStatus}`;
    if (Date.now() > deadline) return `not re-sent: the saga did not reach ${decision.atStatus} within ${catchUpMs / 1000} s (it is ${status})`;
    await sleep(250);
  }
  const args = await decodeArrayFromPayloads(client.options.loadedDataConverter, decision.args);
  try {
    await handle.executeUpdate<unknown, [unknown, ...unknown[]]>(decision.name, { args: args as [unknown, ...unknown[]] });
    return `re-sent at ${decision.atStatus}: accepted`;
  } catch (err) {
    return `re-sent at ${decision.atStatus}: refused (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`;
  }
}

/** The forward statuses, in the order a saga goes through them. */
const FORWARD: readonly string[] = ['PENDING', 'CHECKING_FRAUD', 'RESERVING_INVENTORY', 'CHARGING_PAYMENT', 'CREATING_SHIPMENT', 'CAPTURING_PAYMENT'];

/** The saga can no longer come to `at`: it ended, or went forward past it, or is rolling back from before it. */
function passed(status: CheckoutStatus, at: string | null): boolean {
  if (TERMINAL_STATUSES.includes(status)) return true;
  if (at === null || !FORWARD.includes(at)) return false;
  return !FORWARD.includes(status) || FORWARD.indexOf(status) > FORWARD.indexOf(at);
}

async function findStuckSagas(client: Client, taskQueue: string): Promise<string[]> {
  const found: string[] = [];
  const query = `WorkflowType = "checkout" AND ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}"`;
  for await (const wf of client.workflow.list({ query })) {
    if ((await workflowTaskTrouble(client, { workflowId: wf.workflowId, runId: wf.runId }))?.stuck) found.push(wf.workflowId);
  }
  return found;
}

function describe(r: Rescue, dryRun: boolean): string {
  if (r.error) return `${r.workflowId}: not rescued: ${r.error}`;
  if (r.skipped) return `${r.workflowId}: left alone: ${r.skipped}`;
  const action = dryRun ? 'would reset' : `reset (new run ${r.newRunId})`;
  const decisions = r.decisions.map((d) => `\n    ${d.name} accepted at ${d.atStatus}: ${d.outcome}`).join('');
  return `${r.workflowId}: ${action} to event ${r.resetEventId}: ${r.why}${decisions}`;
}
