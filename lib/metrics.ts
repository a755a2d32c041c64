// Application metrics, with prom-client. Each process builds its own registry
// (worker or API) and serves it on its own port (lib/metrics-server.ts), so a
// test can build several side by side without clashing names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; a step is a database transaction or a mock provider call, retries are separate attempts. */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** What the worker measures: the sagas it ends and the steps it runs. */
export function createWorkerMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    sagaOutcomes: new Counter({
      name: 'checkout_saga_outcomes_total',
      help: 'Sagas ended, by final status and reason (reason "none" for COMPLETED)',
      labelNames: ['status', 'reason'] as const,
      registers: [registry],
    }),
    compensations: new Counter({
      name: 'checkout_compensations_total',
      help: 'Compensations run, by the forward step they undo and whether they succeeded',
      labelNames: ['step', 'outcome'] as const,
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'checkout_step_duration_seconds',
      help: 'Duration of each activity attempt, by activity and outcome',
      labelNames: ['activity', 'outcome'] as const,
      buckets: STEP_BUCKETS,
      registers: [registry],
    }),
    choreographyEvents: new Counter({
      name: 'checkout_choreography_events_total',
      help: 'Events of choreographed checkouts consumed, by consumer and outcome (handled, duplicate, retry, dead_letter)',
      labelNames: ['consumer', 'outcome'] as const,
      registers: [registry],
    }),
    /**
     * The outbox backlog (orders.outbox) is read at scrape time from the source
     * the worker registers; until one does, the gauge does not exist, rather
     * than claiming an empty outbox.
     */
    setOutboxBacklogSource(count: () => Promise<number>): void {
      scrapedGauge(registry, 'checkout_outbox_backlog', 'Outbox messages not yet published', count);
    },
  };
  return metrics;
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** What the API measures: requests, orders it starts, and how many sagas are open. */
export function createApiMetrics(opts: { ordersInFlight?: () => Promise<number> } = {}, registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const { ordersInFlight } = opts;
  if (ordersInFlight) {
    scrapedGauge(
      registry,
      'checkout_orders_in_flight',
      'Checkout sagas still running, as Temporal visibility counts them (right across restarts and any number of workers)',
      ordersInFlight,
    );
  }
  return {
    registry,
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'API requests, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ordersStarted: new Counter({
      name: 'checkout_orders_started_total',
      help: 'POST /orders that reached Temporal, by result (started, replayed for a repeated Idempotency-Key, conflict)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

/** A gauge whose value is read when Prometheus scrapes, not kept up to date in between. */
function scrapedGauge(registry: Registry, name: string, help: string, read: () => Promise<number>): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}
