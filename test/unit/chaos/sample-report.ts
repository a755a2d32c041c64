// A hand-built chaos report for the report's and the campaign's tests.
import type { LatencyReport } from '../../../chaos/latency';
import type { ChaosReport } from '../../../chaos/run-chaos';

/** A run that passed, with a cancel route over its bound in two windows outside the faults. */
export function report(enforced: boolean): ChaosReport {
  const latency: LatencyReport = {
    runStartedAt: '2026-12-01T10:00:00.000Z',
    windowSeconds: 10,
    faultGraceSeconds: 10,
    boundsMs: { 'POST /orders': 1000, 'GET /orders/:id': 1000, 'POST /orders/:id/cancel': 2000 },
    enforced,
    requests: 3,
    unreadableLines: 0,
    routes: {
      'POST /orders': { count: 2, p50Ms: 40, p99Ms: 900, errors5xx: 0, errors503: 0, aborted: 0, outsideFaults: { count: 2, p99Ms: 900 } },
      'POST /orders/:id/cancel': { count: 1, p50Ms: 3200, p99Ms: 3200, errors5xx: 0, errors503: 0, aborted: 0, outsideFaults: { count: 1, p99Ms: 3200 } },
    },
    windows: [
      {
        route: 'POST /orders/:id/cancel',
        fromSeconds: 40,
        count: 1,
        p50Ms: 3200,
        p99Ms: 3200,
        errors5xx: 0,
        errors503: 0,
        aborted: 0,
        outsideFaults: { count: 1, p99Ms: 3200 },
      },
    ],
    broken: [
      {
        route: 'POST /orders/:id/cancel',
        boundMs: 2000,
        windows: [
          { fromSeconds: 40, count: 1, p99Ms: 3200 },
          { fromSeconds: 70, count: 2, p99Ms: 2100 },
        ],
      },
    ],
    client: { 'POST /orders/:id/cancel': { attempts: 3, timeouts: 1, connectionErrors: 1, errors5xx: 0 } },
  };
  return {
    seed: 42,
    coordination: 'orchestration',
    endingsBy: { orchestration: { COMPLETED: 2, 'COMPENSATED card_declined': 1 }, choreography: {} },
    deadLetters: 0,
    planned: 3,
    orders: 3,
    endings: { COMPLETED: 2, 'COMPENSATED card_declined': 1 },
    unexpected: [],
    faults: {
      workerProcesses: 1,
      workerKills: 1,
      workerKillsByProcess: [1],
      apiRestarts: 0,
      serverRestarts: 0,
      natsRestarts: 0,
      workerRestarts: 1,
      apiRestartsTotal: 0,
      failed: [],
      times: [{ kind: 'worker-kill', what: 'kill the worker', atSeconds: 20, seconds: 0.1 }],
    },
    latency,
    recovery: [
      {
        kind: 'worker-kill',
        what: 'kill the worker',
        atSeconds: 20,
        seconds: 0.1,
        latencySeconds: 4,
        progress: {
          openSagas: 2,
          seconds: 12.5,
          medianSeconds: 3,
          slowest: { orderId: 'ord_1', kind: 'happy', coordination: 'orchestration', seconds: 12.5 },
          noProgress: [],
        },
      },
    ],
    activityRetries: 0,
    requestRetries: 0,
    stuck: [],
    lastUnitsCompleted: 0,
    clientFailures: [],
    clientFailureCounts: {},
    slowestOrder: null,
    workflowTaskFailures: [],
    splitSagas: 0,
    replay: { histories: 3, failed: [] },
    errors: [],
    violations: [],
    logDir: '/tmp/checkout-chaos-x',
    seconds: 90,
  };
}
