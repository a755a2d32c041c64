import { isGrpcServiceError, ServiceError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { google, temporal } from '@temporalio/proto';

const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

/**
 * A saga whose workflow task is being retried: the worker failed it, or it
 * timed out (a worker killed mid-task). Until a retry succeeds, queries and
 * updates wait for a worker to run the task; from the third attempt the
 * server refuses them outright ("Workflow Task in failed state", see
 * isWorkflowNotReady).
 */
export type WorkflowTaskTrouble = {
  /** The pending task's attempt: 2 after one failure or timeout. */
  attempt: number;
  /** When the run of failures began (the first failed task's time). */
  since: Date | null;
  /**
   * `non_deterministic_error`, `workflow_worker_unhandled_failure`, …, or
   * `timed_out`: the latest failure the history records. Attempts that fail
   * while nothing else happens to the workflow are not recorded, so a worker
   * killed mid-task and a replacement that then fails to replay shows as
   * `timed_out` until a new event (a timer, an activity) records a failure.
   */
  cause: string;
  message: string;
  /** It will not get better by itself: a code bug or a history the code cannot replay. */
  stuck: boolean;
};

/**
 * A task that timed out is retried on the next worker and usually succeeds;
 * one that fails this many times in a row is failing for a reason. Counted
 * whatever the recorded cause, since later attempts' causes are not recorded;
 * the server refuses queries from this attempt on too.
 */
export const STUCK_AFTER_ATTEMPTS = 3;

/**
 * When every recorded failure is a timeout (workers killed, a server
 * restarted, mid-task), the next attempt usually runs on a live worker and
 * succeeds: a 1,000-order chaos run saw a saga on attempt 3 after a worker
 * kill and a server restart, which recovered by itself, while the API had
 * told its customer to stop trying to cancel it. Timeouts get this many
 * attempts; a replay failure hidden behind a first timeout is flagged a
 * few task timeouts later than it would be otherwise.
 */
export const STUCK_AFTER_TIMEOUTS = 6;

/** Whether a saga whose task is on `attempt`, after failures last recorded as `cause`, will not get better by itself. */
export function isStuck(attempt: number, cause: string): boolean {
  if (cause === 'non_deterministic_error') return true;
  return attempt >= (cause === 'timed_out' ? STUCK_AFTER_TIMEOUTS : STUCK_AFTER_ATTEMPTS);
}

/**
 * Why the saga's workflow task is being retried, or null when it is not
 * (no task pending, or the pending one is a first attempt).
 */
export async function workflowTaskTrouble(
  client: Client,
  execution: { workflowId: string; runId?: string },
  described?: WorkflowExecutionDescription,
): Promise<WorkflowTaskTrouble | null> {
  const description = described ?? (await client.workflow.getHandle(execution.workflowId, execution.runId).describe());
  const attempt = description.raw.pendingWorkflowTask?.attempt ?? 0;
  if (attempt < 2) return null;
  const last = await lastTaskFailure(client, { workflowId: execution.workflowId, runId: description.runId });
  const cause = last?.cause ?? 'unknown';
  return { attempt, since: last?.at ?? null, cause, message: last?.message ?? '', stuck: isStuck(attempt, cause) };
}

/** gRPC's status for "the system is not in a state the operation needs". */
const FAILED_PRECONDITION = 9;
const WORKFLOW_NOT_READY = 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure';

/**
 * Whether the server refused a query or an update because the workflow task
 * is failing. The client raises a ServiceError ("Failed to query Workflow",
 * "Workflow Update failed") whose cause is the server's FAILED_PRECONDITION,
 * with a WorkflowNotReadyFailure in its details: the details are checked
 * because FAILED_PRECONDITION alone also means other things (a namespace that
 * is not active in this cluster).
 */
export function isWorkflowNotReady(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : undefined;
  if (!isGrpcServiceError(grpc) || grpc.code !== FAILED_PRECONDITION) return false;
  const status = grpc.metadata.get('grpc-status-details-bin')[0];
  return Buffer.isBuffer(status) && google.rpc.Status.decode(status).details.some((d) => d.type_url === WORKFLOW_NOT_READY);
}

/**
 * The latest failure or timeout of a workflow task since the last one that
 * completed, read back from the end of the history. Attempts that fail while
 * nothing else happens are transient: the history keeps only the first.
 */
async function lastTaskFailure(
  client: Client,
  execution: { workflowId: string; runId: string },
): Promise<{ cause: string; message: string; at: Date | null } | null> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution,
      maximumPageSize: 100,
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) {
      const at = optionalTsToDate(event.eventTime) ?? null;
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) return null;
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) return { cause: 'timed_out', message: 'The workflow task timed out', at };
      const failure = taskFailureOf(event);
      if (failure) return { ...failure, at };
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return null;
}

/** A WorkflowTaskFailed event's cause (`non_deterministic_error`, …) and message; null for any other event. */
export function taskFailureOf(event: temporal.api.history.v1.IHistoryEvent): { cause: string; message: string } | null {
  if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) return null;
  const attrs = event.workflowTaskFailedEventAttributes;
  const cause = WorkflowTaskFailedCause[attrs?.cause ?? 0] ?? 'WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED';
  return { cause: cause.replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '').toLowerCase(), message: attrs?.failure?.message ?? '' };
}
