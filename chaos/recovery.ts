// How long the system took to recover from each fault of the chaos run:
// (a) until the routes answered within their bounds again (latency.ts), and
// (b) until every saga that was open at the fault had made progress. Pure:
// run-chaos.ts reads the histories and timelines and feeds them in.
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { ApiRequest } from './api-requests';
import type { SentRequest } from './chaos-client';
import { latencyRecoveryMs, percentile, type Bounds } from './latency';
import type { Coordination, OrderKind } from './order-mix';

export type FaultKind = 'worker-kill' | 'api-restart' | 'server-restart' | 'nats-restart';

/** A fault as it was injected: seconds since the run's start. */
export type FaultRecord = {
  kind: FaultKind;
  what: string;
  atSeconds: number;
  /**
   * How long injecting it took: a worker kill or the API's graceful stop until the process exited (its
   * supervisor starts it again 0.5 s later); a dev server or NATS restart until the new one answers.
   */
  seconds: number;
  /** Why it could not be injected, if it could not. */
  error?: string;
};

/** A saga's life as far as progress goes, in ms since the epoch. */
export type SagaSpan = {
  orderId: string;
  kind: OrderKind;
  coordination: Coordination;
  startedMs: number;
  /** When it closed; null while it runs. */
  closedMs: number | null;
  /** Each moment it moved on: a completed workflow task (orchestrated), an event of its timeline (choreographed). */
  progressMs: number[];
};

const { EventType } = temporal.api.enums.v1;
/** The events that close a run. */
export const CLOSE_EVENTS: ReadonlySet<number> = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** An orchestrated saga's span from its history: started at its first event, moving on at each WorkflowTaskCompleted. */
export function historySpan(history: temporal.api.history.v1.IHistory): Pick<SagaSpan, 'startedMs' | 'closedMs' | 'progressMs'> | null {
  const events = history.events ?? [];
  if (events.length === 0) return null;
  const closing = events.findIndex((e) => e.eventType && CLOSE_EVENTS.has(e.eventType));
  const completedTasks = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  return {
    startedMs: tsToMs(events[0]!.eventTime),
    closedMs: closing === -1 ? null : closedAt(events, closing),
    progressMs: completedTasks.map((e) => tsToMs(e.eventTime)),
  };
}

/**
 * When the saga closed: for a close the workflow asked for, when the
 * workflow task that asked for it completed. The server stamps each event of
 * that task with its own clock reading, the close event up to some 15 ms
 * after the task's completion (seen in a campaign), and a fault between the
 * two must not count the saga as open and stranded.
 */
function closedAt(events: temporal.api.history.v1.IHistoryEvent[], closing: number): number {
  const own = events[closing]!;
  const byCommand = own.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED && own.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT;
  const task = byCommand
    ? events
        .slice(0, closing)
        .reverse()
        .find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    : undefined;
  return tsToMs((task ?? own).eventTime);
}

/** The events that close a choreographed order (as the chaos report's durations take them). */
const CLOSING_TYPES = new Set(['InventoryCommitted', 'InventoryReleased']);

/** A choreographed saga's span from its timeline, oldest first: every event is a step it took. */
export function timelineSpan(timeline: { type: string; occurredAt: string }[]): Pick<SagaSpan, 'startedMs' | 'closedMs' | 'progressMs'> | null {
  if (timeline.length === 0) return null;
  const times = timeline.map((e) => Date.parse(e.occurredAt));
  const closing = timeline.findIndex((e) => CLOSING_TYPES.has(e.type));
  return { startedMs: Math.min(...times), closedMs: closing === -1 ? null : times[closing]!, progressMs: times };
}

export type SagaProgress = {
  /** Sagas started before the fault and not closed before it. */
  openSagas: number;
  /** Recovery (b): the longest wait, over the open sagas, from the fault to each one's next step; null if one never moved again. */
  seconds: number | null;
  medianSeconds: number | null;
  slowest: { orderId: string; kind: OrderKind; coordination: Coordination; seconds: number } | null;
  /** Open at the fault, and never a step after it. */
  noProgress: string[];
};

/** Recovery (b) for a fault at faultMs. */
export function progressAfter(faultMs: number, sagas: SagaSpan[]): SagaProgress {
  const open = sagas.filter((s) => s.startedMs < faultMs && (s.closedMs === null || s.closedMs >= faultMs));
  const waits: { saga: SagaSpan; ms: number }[] = [];
  const noProgress: string[] = [];
  for (const saga of open) {
    const next = saga.progressMs.filter((t) => t > faultMs).reduce((a, b) => Math.min(a, b), Infinity);
    if (next === Infinity) noProgress.push(saga.orderId);
    else waits.push({ saga, ms: next - faultMs });
  }
  const slowest = waits.reduce<(typeof waits)[number] | undefined>((a, w) => (a && a.ms >= w.ms ? a : w), undefined);
  const median = percentile(
    waits.map((w) => w.ms),
    0.5,
  );
  return {
    openSagas: open.length,
    seconds: noProgress.length > 0 ? null : slowest ? round(slowest.ms) : 0,
    medianSeconds: median === null ? null : round(median),
    slowest: slowest ? { orderId: slowest.saga.orderId, kind: slowest.saga.kind, coordination: slowest.saga.coordination, seconds: round(slowest.ms) } : null,
    noProgress,
  };
}

export type FaultRecovery = FaultRecord & {
  /** Recovery (a), in seconds after the fault; null if the routes never came back within their bounds. */
  latencySeconds: number | null;
  /** Recovery (b). */
  progress: SagaProgress;
};

export function recoveries(
  faults: FaultRecord[],
  input: { runStartMs: number; requests: ApiRequest[]; sent: SentRequest[]; bounds: Bounds; sagas: SagaSpan[] },
): FaultRecovery[] {
  return faults.map((fault) => {
    const atMs = input.runStartMs + fault.atSeconds * 1000;
    const latencyMs = latencyRecoveryMs(atMs, input.requests, input.sent, input.bounds);
    return { ...fault, latencySeconds: latencyMs === null ? null : round(latencyMs), progress: progressAfter(atMs, input.sagas) };
  });
}

/** ms as seconds with one decimal. */
function round(ms: number): number {
  return Math.round(ms / 100) / 10;
}
