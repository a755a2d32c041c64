// Latency per route and per 10 s window of the chaos run, from the API's
// request log (api-requests.ts) and the chaos client's own record of what it
// sent; the bounds they are held to outside the faults, and how long after a
// fault the routes are back within them. Pure: run-chaos.ts feeds it.
import { ROUTES, routeOf, type ApiRequest, type Route } from './api-requests';
import type { SentRequest } from './chaos-client';

export const WINDOW_MS = 10_000;
/** How long after a fault (once injected) its disturbance is allowed: requests sent or in flight then do not count for the bounds. */
export const FAULT_GRACE_MS = 10_000;
/** Sliding step of the recovery measure. */
const STEP_MS = 1000;

export type Bounds = Partial<Record<Route, number>>;
/** The p99 each route must keep outside the faults, in ms. */
export const LATENCY_BOUNDS_MS: Bounds = { 'POST /orders': 1000, 'GET /orders/:id': 1000, 'POST /orders/:id/cancel': 2000 };

/** The p-quantile (0 < p ≤ 1) by nearest rank: a value that was measured, the largest when there are fewer than 1/(1-p) values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // The epsilon keeps 0.99 × 300 (297.00000000000006) at rank 297.
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length - 1e-9))) - 1]!;
}

/** A stretch of the run in which a fault may disturb the answers: from its injection to FAULT_GRACE_MS after it was done. */
export type FaultSpan = { fromMs: number; toMs: number };

export function faultSpan(atMs: number, doneMs: number, graceMs = FAULT_GRACE_MS): FaultSpan {
  return { fromMs: atMs, toMs: doneMs + graceMs };
}

/** Sent, or still in flight, during one of the spans. */
export function duringFaults(req: Pick<ApiRequest, 'startMs' | 'endMs'>, spans: FaultSpan[]): boolean {
  return spans.some((s) => req.startMs < s.toMs && req.endMs >= s.fromMs);
}

/** `aborted`: requests the client went away from before the answer (their time is how long it waited). */
export type LatencyStats = { count: number; p50Ms: number | null; p99Ms: number | null; errors5xx: number; errors503: number; aborted: number };
/** The stats of all its requests, and the p99 of those neither sent nor in flight during a fault span. */
export type RouteLatency = LatencyStats & { outsideFaults: { count: number; p99Ms: number | null } };
/** A route's requests sent in [fromSeconds, fromSeconds + 10) since the run's start. */
export type WindowLatency = RouteLatency & { route: Route; fromSeconds: number };

function stats(requests: ApiRequest[], spans: FaultSpan[]): RouteLatency {
  const ms = requests.map((r) => r.ms);
  const outside = requests.filter((r) => !duringFaults(r, spans)).map((r) => r.ms);
  return {
    count: requests.length,
    p50Ms: percentile(ms, 0.5),
    p99Ms: percentile(ms, 0.99),
    errors5xx: requests.filter((r) => r.status !== null && r.status >= 500).length,
    errors503: requests.filter((r) => r.status === 503).length,
    aborted: requests.filter((r) => r.status === null).length,
    outsideFaults: { count: outside.length, p99Ms: percentile(outside, 0.99) },
  };
}

function byRoute<T extends { route: Route }>(items: T[]): Map<Route, T[]> {
  const map = new Map<Route, T[]>();
  for (const item of items) {
    const list = map.get(item.route);
    if (list) list.push(item);
    else map.set(item.route, [item]);
  }
  return new Map(ROUTES.filter((r) => map.has(r)).map((r) => [r, map.get(r)!]));
}

export function routeLatency(requests: ApiRequest[], spans: FaultSpan[]): Partial<Record<Route, RouteLatency>> {
  return Object.fromEntries([...byRoute(requests)].map(([route, reqs]) => [route, stats(reqs, spans)]));
}

/** Each route's requests by the 10 s window they were sent in, counted from the run's start; windows without requests are left out. */
export function windowLatency(requests: ApiRequest[], runStartMs: number, spans: FaultSpan[], windowMs = WINDOW_MS): WindowLatency[] {
  const windows: WindowLatency[] = [];
  for (const [route, reqs] of byRoute(requests)) {
    const buckets = new Map<number, ApiRequest[]>();
    for (const r of reqs) {
      const i = Math.max(0, Math.floor((r.startMs - runStartMs) / windowMs));
      const bucket = buckets.get(i);
      if (bucket) bucket.push(r);
      else buckets.set(i, [r]);
    }
    for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
      windows.push({ route, fromSeconds: (i * windowMs) / 1000, ...stats(buckets.get(i)!, spans) });
    }
  }
  return windows.sort((a, b) => a.fromSeconds - b.fromSeconds || ROUTES.indexOf(a.route) - ROUTES.indexOf(b.route));
}

export type BrokenBound = { route: Route; boundMs: number; windows: { fromSeconds: number; count: number; p99Ms: number }[] };

/** The windows in which a route's p99 outside the fault spans exceeded its bound, by route. */
export function brokenBounds(windows: WindowLatency[], bounds: Bounds): BrokenBound[] {
  return Object.entries(bounds).flatMap(([route, boundMs]) => {
    const broken = windows
      .filter((w) => w.route === route && w.outsideFaults.p99Ms !== null && w.outsideFaults.p99Ms > boundMs!)
      .map((w) => ({ fromSeconds: w.fromSeconds, count: w.outsideFaults.count, p99Ms: w.outsideFaults.p99Ms! }));
    return broken.length > 0 ? [{ route: route as Route, boundMs: boundMs!, windows: broken }] : [];
  });
}

/** The named reason a broken bound gives the run for failing. */
export function brokenBoundReason(b: BrokenBound): string {
  const worst = Math.max(...b.windows.map((w) => w.p99Ms));
  const n = b.windows.length;
  return `p99 of ${b.route} ${seconds(worst)} > ${seconds(b.boundMs)} in ${n} window${n === 1 ? '' : 's'} outside faults`;
}

/** ms as the report prints them: "850 ms", "3.2 s", "2 s". */
export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

/** What the chaos client saw of a route, every attempt counted (its retries included). */
export type ClientRouteView = {
  attempts: number;
  /** Attempts it abandoned at its own timeout (ChaosClient's timeoutMs). */
  timeouts: number;
  /** No answer at all: refused, reset (the API restarting). */
  connectionErrors: number;
  errors5xx: number;
};

export function clientView(sent: SentRequest[]): Partial<Record<Route, ClientRouteView>> {
  const view: Partial<Record<Route, ClientRouteView>> = {};
  for (const s of sent) {
    const v = (view[routeOf(s.method, s.path)] ??= { attempts: 0, timeouts: 0, connectionErrors: 0, errors5xx: 0 });
    v.attempts++;
    if (s.outcome === 'timeout') v.timeouts++;
    else if (s.outcome === 'error') v.connectionErrors++;
    else if (s.status! >= 500) v.errors5xx++;
  }
  return Object.fromEntries(ROUTES.filter((r) => view[r]).map((r) => [r, view[r]]));
}

/** The first index whose value is ≥ x, in an ascending array. */
function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Recovery (a): how long after a fault the routes with a bound were back
 * within it. A window of WINDOW_MS slides from the fault in 1 s steps; the
 * answer is the offset of the first window in which the bounded routes
 * answered something, every bounded route's p99 is within its bound, none
 * answered 5xx or was given up on, and the client met neither a refused
 * connection nor its timeout. 0: the fault never pushed them out. null: they never came back
 * before the requests ran out.
 */
export function latencyRecoveryMs(
  faultMs: number,
  requests: ApiRequest[],
  sent: SentRequest[],
  bounds: Bounds,
  windowMs = WINDOW_MS,
  stepMs = STEP_MS,
): number | null {
  const bounded = requests.filter((r) => bounds[r.route] !== undefined).sort((a, b) => a.startMs - b.startMs);
  const starts = bounded.map((r) => r.startMs);
  const unanswered = sent
    .filter((s) => s.outcome !== 'answered')
    .map((s) => s.startMs)
    .sort((a, b) => a - b);
  const last = starts.at(-1);
  if (last === undefined) return null;
  for (let t = faultMs; t <= last; t += stepMs) {
    const inWindow = bounded.slice(lowerBound(starts, t), lowerBound(starts, t + windowMs));
    if (inWindow.length === 0) continue;
    if (lowerBound(unanswered, t) < lowerBound(unanswered, t + windowMs)) continue;
    const within = [...byRoute(inWindow)].every(
      ([route, reqs]) =>
        reqs.every((r) => r.status !== null && r.status < 500) &&
        percentile(
          reqs.map((r) => r.ms),
          0.99,
        )! <= bounds[route]!,
    );
    if (within) return t - faultMs;
  }
  return null;
}

export type LatencyReport = {
  /** The run's start, from which the windows count. */
  runStartedAt: string;
  windowSeconds: number;
  /** Requests sent or in flight from a fault's injection to this long after it was done do not count for the bounds. */
  faultGraceSeconds: number;
  boundsMs: Bounds;
  /** Whether a broken bound fails the run (the bounded test only reports them). */
  enforced: boolean;
  /** Request lines read from api.log, and lines that looked like JSON but did not parse. */
  requests: number;
  unreadableLines: number;
  routes: Partial<Record<Route, RouteLatency>>;
  windows: WindowLatency[];
  /** Windows outside the faults in which a route's p99 exceeded its bound. */
  broken: BrokenBound[];
  /** The chaos client's view, per route. */
  client: Partial<Record<Route, ClientRouteView>>;
};

export function latencyReport(input: {
  requests: ApiRequest[];
  unreadableLines: number;
  sent: SentRequest[];
  runStartMs: number;
  spans: FaultSpan[];
  bounds?: Bounds;
  enforced: boolean;
}): LatencyReport {
  const { requests, sent, runStartMs, spans, bounds = LATENCY_BOUNDS_MS } = input;
  const windows = windowLatency(requests, runStartMs, spans);
  return {
    runStartedAt: new Date(runStartMs).toISOString(),
    windowSeconds: WINDOW_MS / 1000,
    faultGraceSeconds: FAULT_GRACE_MS / 1000,
    boundsMs: bounds,
    enforced: input.enforced,
    requests: requests.length,
    unreadableLines: input.unreadableLines,
    routes: routeLatency(requests, spans),
    windows,
    broken: brokenBounds(windows, bounds),
    client: clientView(sent),
  };
}
