import { temporal } from '@temporalio/proto';

// Reading a saga's history for the rescue: which workflow task recorded what,
// where a local activity's result crossed a task boundary, and which
// decisions (updates) the run accepted. Pure: it works on a fetched history.

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { EventType } = temporal.api.enums.v1;

export type WorkflowTask = {
  /** The WorkflowTaskCompleted event: a reset point. */
  completedEventId: number;
  /** The events its commands wrote, in order. */
  commands: HistoryEvent[];
  /** The next task was scheduled right after these commands, with nothing between: the worker asked for it. */
  forcedNext: boolean;
};

export const eventId = (e: HistoryEvent) => Number(e.eventId ?? 0);
export const eventTypeName = (e: HistoryEvent) => EventType[e.eventType ?? 0].replace(/^EVENT_TYPE_/, '');

/** Every completed workflow task, with the commands it recorded. */
export function workflowTasks(history: History): WorkflowTask[] {
  const events = history.events ?? [];
  const tasks: WorkflowTask[] = [];
  let current: WorkflowTask | undefined;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      tasks.push((current = { completedEventId: eventId(event), commands: [], forcedNext: false }));
    } else if (current && isCommandEvent(event)) {
      current.commands.push(event);
    } else if (current) {
      current.forcedNext = event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED;
      current = undefined;
    }
  }
  return tasks;
}

/**
 * Tasks that recorded a local activity's marker and had the worker ask for
 * the next task at once: the shape of a result that crossed the boundary (the
 * task also answered a query while the activity resolved; see docs). A replay
 * delivers such a result one task early. A local activity that outlived the
 * task's heartbeat looks the same from here; counting it too only makes the
 * rescue go back further than it had to, which is safe.
 */
export function splitTasks(tasks: WorkflowTask[]): WorkflowTask[] {
  return tasks.filter((t) => t.forcedNext && t.commands.some(isLocalActivityMarker));
}

/** The history as a reset to this task's completion keeps it: everything before the task finished. */
export function historyBefore(history: History, completedEventId: number): History {
  return { events: (history.events ?? []).filter((e) => eventId(e) < completedEventId) };
}

/** A decision the run accepted: an update, with what the saga's status was when it came. */
export type AcceptedDecision = {
  eventId: number;
  updateId: string;
  name: string;
  args: temporal.api.common.v1.IPayload[];
  /** The OrderStatus search attribute when it was accepted. */
  atStatus: string | null;
};

export function decisionsAfter(history: History, afterEventId: number): AcceptedDecision[] {
  const decisions: AcceptedDecision[] = [];
  let status: string | null = null;
  for (const event of history.events ?? []) {
    const upserted = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OrderStatus;
    if (upserted?.data) status = JSON.parse(Buffer.from(upserted.data).toString('utf8')) as string;
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted && eventId(event) > afterEventId) {
      decisions.push({
        eventId: eventId(event),
        updateId: accepted.protocolInstanceId ?? '',
        name: accepted.acceptedRequest?.input?.name ?? '',
        args: accepted.acceptedRequest?.input?.args?.payloads ?? [],
        atStatus: status,
      });
    }
  }
  return decisions;
}

function isLocalActivityMarker(e: HistoryEvent): boolean {
  return e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
}

/** Events a workflow task's commands write (those that can follow its completion directly). */
const COMMAND_EVENTS = new Set([
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
  EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED,
]);

function isCommandEvent(e: HistoryEvent): boolean {
  return COMMAND_EVENTS.has(e.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED);
}
