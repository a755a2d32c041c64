import type { Client, HistoryAndWorkflowId } from '@temporalio/client';
import type { DataConverter, Logger } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import { workflowTraceSinks } from '../lib/tracing';
import { eachLimit } from '../lib/each-limit';
import { taskFailureOf } from '../lib/workflow-task-health';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker';
import { CLOSE_EVENTS } from './recovery';

export type TaskFailure = { cause: string; message: string };
export type ReplayFailure = { workflowId: string; error: string };

/**
 * Every saga's history, read back from the chaos run's dev server, a few at
 * a time. A history that cannot be read is one that cannot be checked: it is
 * returned as a failure, not skipped.
 */
export async function fetchHistories(client: Client, workflowIds: string[]): Promise<{ histories: HistoryAndWorkflowId[]; unread: ReplayFailure[] }> {
  const histories: HistoryAndWorkflowId[] = [];
  const unread: ReplayFailure[] = [];
  await eachLimit(workflowIds, 8, async (workflowId) => {
    try {
      histories.push({ workflowId, history: await client.workflow.getHandle(workflowId).fetchHistory() });
    } catch (err) {
      unread.push({ workflowId, error: `history not read: ${err}` });
    }
  });
  return { histories, unread };
}

/**
 * The workflow tasks a history records as failed: the worker threw while
 * running the workflow code (nondeterminism, a bug), or the server refused
 * its commands. Tasks that timed out (a worker killed mid-task) are not
 * failures: every worker SIGKILL makes some.
 */
export function workflowTaskFailures(history: HistoryAndWorkflowId['history']): TaskFailure[] {
  const events = (history as temporal.api.history.v1.IHistory).events ?? [];
  return events.flatMap((e) => taskFailureOf(e) ?? []);
}

/** From the saga's first event to the one that closed it, in seconds; null while it runs. */
export function sagaSeconds(history: HistoryAndWorkflowId['history']): number | null {
  const events = (history as temporal.api.history.v1.IHistory).events ?? [];
  const last = events.at(-1);
  const closed = last?.eventType && CLOSE_EVENTS.has(last.eventType);
  return closed ? (tsToMs(last.eventTime) - tsToMs(events[0]?.eventTime)) / 1000 : null;
}

/** This tree's workflow code, bundled as the worker bundles it (with every interceptor): the current build. */
export function currentBuildBundle(log: (line: string) => void): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger(log),
  });
}

/**
 * Replays the histories against a build's bundle (currentBuildBundle(), or a
 * retired build's in builds/), without a server. A failure means the build
 * cannot carry on a saga the run produced.
 */
export async function replayHistories(histories: HistoryAndWorkflowId[], dataConverter: DataConverter, bundle: WorkflowBundleOption): Promise<ReplayFailure[]> {
  if (histories.length === 0) return [];
  const failed: ReplayFailure[] = [];
  const results = Worker.runReplayHistories(
    // The bundle's tracing interceptors export through this sink, even though a replay exports nothing.
    { workflowBundle: bundle, dataConverter, sinks: workflowTraceSinks(undefined) },
    histories,
  );
  for await (const { workflowId, error } of results) {
    if (error) failed.push({ workflowId, error: String(error) });
  }
  return failed;
}

/** Webpack's progress is noise in the run's output; its warnings and errors are not. */
function quietLogger(log: (line: string) => void): Logger {
  const keep = (message: string) => log(`[bundle] ${message}`);
  const drop = () => undefined;
  return {
    log: (level, message) => (level === 'WARN' || level === 'ERROR' ? keep(message) : undefined),
    trace: drop,
    debug: drop,
    info: drop,
    warn: keep,
    error: keep,
  };
}
