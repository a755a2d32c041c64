// Where one saga's milliseconds go, from its Temporal history: time waiting in
// task queues, time the worker spent on workflow tasks, time inside the
// activities (the services' own work), and the rest (server bookkeeping and
// round trips).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';

const T = temporal.api.enums.v1.EventType;

export type Breakdown = {
  workflowId: string;
  totalMs: number;
  workflowTasks: number;
  workflowTaskQueueMs: number;
  workflowTaskRunMs: number;
  activities: number;
  activityQueueMs: number;
  activityRunMs: number;
  localActivityMarkers: number;
  otherMs: number;
  events: number;
};

export async function sagaBreakdown(client: Client, workflowId: string): Promise<Breakdown> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = (e: (typeof events)[number]) => tsToMs(e.eventTime!);
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const b: Breakdown = {
    workflowId,
    totalMs: events.length ? at(events[events.length - 1]!) - at(events[0]!) : 0,
    workflowTasks: 0,
    workflowTaskQueueMs: 0,
    workflowTaskRunMs: 0,
    activities: 0,
    activityQueueMs: 0,
    activityRunMs: 0,
    localActivityMarkers: 0,
    otherMs: 0,
    events: events.length,
  };
  for (const e of events) {
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const scheduled = byId.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId));
        if (scheduled) b.workflowTaskQueueMs += at(e) - at(scheduled);
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const started = byId.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId));
        if (started) b.workflowTaskRunMs += at(e) - at(started);
        b.workflowTasks++;
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = byId.get(Number(e.activityTaskStartedEventAttributes!.scheduledEventId));
        if (scheduled) b.activityQueueMs += at(e) - at(scheduled);
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes!;
        const started = byId.get(Number(attrs.startedEventId));
        if (started) b.activityRunMs += at(e) - at(started);
        b.activities++;
        break;
      }
      case T.EVENT_TYPE_MARKER_RECORDED:
        b.localActivityMarkers++;
        break;
    }
  }
  b.otherMs = b.totalMs - b.workflowTaskQueueMs - b.workflowTaskRunMs - b.activityQueueMs - b.activityRunMs;
  return b;
}
