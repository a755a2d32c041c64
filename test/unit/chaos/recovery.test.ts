import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { historySpan, progressAfter, recoveries, timelineSpan, type SagaSpan } from '../../../chaos/recovery';

const { EventType } = temporal.api.enums.v1;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (s: number) => T0 + s * 1000;

const saga = (
  orderId: string,
  startedS: number,
  closedS: number | null,
  progressS: number[],
  coordination: SagaSpan['coordination'] = 'orchestration',
): SagaSpan => ({
  orderId,
  kind: 'happy',
  coordination,
  startedMs: at(startedS),
  closedMs: closedS === null ? null : at(closedS),
  progressMs: progressS.map(at),
});

describe("a saga's span", () => {
  it('from its history: started at its first event, moving on at each completed workflow task, closed at its close event', () => {
    const event = (eventType: number, s: number) => ({ eventType, eventTime: msToTs(at(s)) });
    const history = {
      events: [
        event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 1),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 1),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, 1.5),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 2),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 2),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, 12),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 14),
        event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 14),
      ],
    };
    expect(historySpan(history)).toEqual({ startedMs: at(1), closedMs: at(14), progressMs: [at(2), at(14)] });
    expect(historySpan({ events: history.events.slice(0, 5) })).toMatchObject({ closedMs: null });
    expect(historySpan({ events: [] })).toBeNull();
  });

  it("closed when the workflow task that closed it completed, not at the close event's own, later time", () => {
    const event = (eventType: number, ms: number) => ({ eventType, eventTime: msToTs(T0 + ms) });
    const events = [
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 0),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 1000),
      event(EventType.EVENT_TYPE_MARKER_RECORDED, 1000),
      event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, 1010),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 1013),
    ];
    const span = historySpan({ events })!;
    expect(span.closedMs).toBe(T0 + 1000);
    // A worker killed between the two: the saga had closed, it is not one that never moved again.
    expect(progressAfter(T0 + 1005, [{ ...span, orderId: 'ord_done', kind: 'happy', coordination: 'orchestration' }])).toMatchObject({
      openSagas: 0,
      noProgress: [],
    });
    // Terminated from outside: its own event is the close.
    const terminated = [...events.slice(0, 2), event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, 5000)];
    expect(historySpan({ events: terminated })!.closedMs).toBe(T0 + 5000);
  });

  it('from a choreographed order’s timeline: every event a step, closed by the inventory’s last word', () => {
    const e = (type: string, s: number) => ({ type, occurredAt: new Date(at(s)).toISOString() });
    expect(timelineSpan([e('OrderPlaced', 1), e('FraudCleared', 2), e('InventoryReleased', 5), e('OrderTimedOut', 120)])).toEqual({
      startedMs: at(1),
      closedMs: at(5),
      progressMs: [at(1), at(2), at(5), at(120)],
    });
    expect(timelineSpan([e('OrderPlaced', 1)])).toMatchObject({ closedMs: null });
    expect(timelineSpan([])).toBeNull();
  });
});

describe('recovery (b): until every saga open at the fault moved on', () => {
  it('counts only the sagas started before the fault and not closed before it', () => {
    const sagas = [
      saga('ord_closed', 1, 8, [2, 8]),
      saga('ord_later', 11, null, [12]),
      saga('ord_quick', 5, null, [6, 10.5, 13]),
      saga('ord_slow', 9, 30, [9.5, 17.25, 30], 'choreography'),
    ];

    expect(progressAfter(at(10), sagas)).toEqual({
      openSagas: 2,
      seconds: 7.3,
      medianSeconds: 0.5,
      slowest: { orderId: 'ord_slow', kind: 'happy', coordination: 'choreography', seconds: 7.3 },
      noProgress: [],
    });
  });

  it('has no answer while a saga never moved after the fault', () => {
    const p = progressAfter(at(10), [saga('ord_quick', 5, null, [11]), saga('ord_stuck', 6, null, [7])]);
    expect(p).toMatchObject({ openSagas: 2, seconds: null, noProgress: ['ord_stuck'], slowest: { orderId: 'ord_quick', seconds: 1 } });
  });

  it('is 0 with nothing open', () => {
    expect(progressAfter(at(10), [saga('ord_later', 11, null, [12])])).toEqual({
      openSagas: 0,
      seconds: 0,
      medianSeconds: null,
      slowest: null,
      noProgress: [],
    });
  });
});

it('gives (a) and (b) for each fault, timed from the run start', () => {
  const requests = [{ route: 'POST /orders' as const, startMs: at(21), endMs: at(21.1), ms: 100, status: 202 }];
  const [r] = recoveries([{ kind: 'worker-kill', what: 'kill the worker', atSeconds: 20, seconds: 0.1 }], {
    runStartMs: T0,
    requests,
    sent: [],
    bounds: { 'POST /orders': 1000 },
    sagas: [saga('ord_1', 15, null, [16, 23])],
  });
  expect(r).toEqual({
    kind: 'worker-kill',
    what: 'kill the worker',
    atSeconds: 20,
    seconds: 0.1,
    latencySeconds: 0,
    progress: {
      openSagas: 1,
      seconds: 3,
      medianSeconds: 3,
      slowest: { orderId: 'ord_1', kind: 'happy', coordination: 'orchestration', seconds: 3 },
      noProgress: [],
    },
  });
});
