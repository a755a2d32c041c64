import { temporal } from '@temporalio/proto';

/**
 * The commands each completed workflow task recorded, in order, as
 * "EVENT_TYPE" or "MARKER_RECORDED markerName": enough to see in which task a
 * marker landed.
 */
export function commandsByTask(history: temporal.api.history.v1.IHistory): string[][] {
  const tasks: string[][] = [];
  let current: string[] | undefined;
  for (const event of history.events ?? []) {
    const type = temporal.api.enums.v1.EventType[event.eventType ?? 0].replace(/^EVENT_TYPE_/, '');
    if (type === 'WORKFLOW_TASK_COMPLETED') tasks.push((current = []));
    else if (type === 'WORKFLOW_TASK_SCHEDULED') current = undefined;
    else current?.push(type === 'MARKER_RECORDED' ? `${type} ${event.markerRecordedEventAttributes?.markerName}` : type);
  }
  return tasks;
}
