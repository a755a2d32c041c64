import type { ApiRequest, Route } from '../../../chaos/api-requests';
import type { SentRequest } from '../../../chaos/chaos-client';
import { brokenBoundReason, brokenBounds, clientView, duringFaults, faultSpan, latencyRecoveryMs, percentile, windowLatency } from '../../../chaos/latency';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
/** A request sent `at` seconds after T0 that took `ms`. */
const req = (route: Route, at: number, ms: number, status: number | null = 200): ApiRequest => ({
  route,
  startMs: T0 + at * 1000,
  endMs: T0 + at * 1000 + ms,
  ms,
  status,
});
const bounds = { 'POST /orders': 1000, 'POST /orders/:id/cancel': 2000 };

describe('percentile, by nearest rank', () => {
  it('is a value that was measured', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });

  it('is the largest value for fewer than 100 values, and the 99th of 100', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile([5, 1, 9, 2], 0.99)).toBe(9);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred.reverse(), 0.5)).toBe(50);
    // 0.99 × 300 is 297.00000000000006 in floating point: still rank 297.
    expect(
      percentile(
        Array.from({ length: 300 }, (_, i) => i + 1),
        0.99,
      ),
    ).toBe(297);
  });
});

describe('fault spans', () => {
  const spans = [faultSpan(T0 + 20_000, T0 + 23_000)];

  it('run from the fault to 10 s after it was done', () => {
    expect(spans).toEqual([{ fromMs: T0 + 20_000, toMs: T0 + 33_000 }]);
  });

  it('take in the requests sent during them, and those still in flight when they began', () => {
    expect(duringFaults(req('POST /orders', 19, 500), spans)).toBe(false);
    expect(duringFaults(req('POST /orders', 19, 1500), spans)).toBe(true);
    expect(duringFaults(req('POST /orders', 32.9, 10), spans)).toBe(true);
    expect(duringFaults(req('POST /orders', 33, 10), spans)).toBe(false);
  });
});

describe('windows', () => {
  it('bucket each route by when the request was sent, 10 s from the run start, leaving out empty ones', () => {
    const requests = [req('POST /orders', 1, 100), req('POST /orders', 9.9, 300, 503), req('POST /orders', 25, 50), req('GET /orders/:id', 3, 20)];
    const windows = windowLatency(requests, T0, []);
    expect(windows).toEqual([
      {
        route: 'POST /orders',
        fromSeconds: 0,
        count: 2,
        p50Ms: 100,
        p99Ms: 300,
        errors5xx: 1,
        errors503: 1,
        aborted: 0,
        outsideFaults: { count: 2, p99Ms: 300 },
      },
      {
        route: 'GET /orders/:id',
        fromSeconds: 0,
        count: 1,
        p50Ms: 20,
        p99Ms: 20,
        errors5xx: 0,
        errors503: 0,
        aborted: 0,
        outsideFaults: { count: 1, p99Ms: 20 },
      },
      {
        route: 'POST /orders',
        fromSeconds: 20,
        count: 1,
        p50Ms: 50,
        p99Ms: 50,
        errors5xx: 0,
        errors503: 0,
        aborted: 0,
        outsideFaults: { count: 1, p99Ms: 50 },
      },
    ]);
  });

  it('hold a route to its bound only over the requests outside the faults', () => {
    const spans = [faultSpan(T0 + 10_000, T0 + 10_000)];
    const requests = [
      // During the fault: slow, and excused.
      req('POST /orders/:id/cancel', 12, 9000),
      // After it: one slow cancel breaks the bound of its window.
      req('POST /orders/:id/cancel', 21, 100),
      req('POST /orders/:id/cancel', 22, 3200),
      req('POST /orders/:id/cancel', 45, 2500),
      req('POST /orders', 46, 900),
    ];
    const windows = windowLatency(requests, T0, spans);
    expect(windows.find((w) => w.fromSeconds === 10)).toMatchObject({ count: 1, p99Ms: 9000, outsideFaults: { count: 0, p99Ms: null } });

    const broken = brokenBounds(windows, bounds);

    expect(broken).toEqual([
      {
        route: 'POST /orders/:id/cancel',
        boundMs: 2000,
        windows: [
          { fromSeconds: 20, count: 2, p99Ms: 3200 },
          { fromSeconds: 40, count: 1, p99Ms: 2500 },
        ],
      },
    ]);
    expect(brokenBoundReason(broken[0]!)).toBe('p99 of POST /orders/:id/cancel 3.2 s > 2 s in 2 windows outside faults');
  });
});

const sent = (at: number, outcome: SentRequest['outcome'], path = '/orders', status?: number): SentRequest => ({
  method: 'POST',
  path,
  startMs: T0 + at * 1000,
  ms: 10,
  outcome,
  ...(status !== undefined && { status }),
});

it("the client's view counts its attempts per route, and those it abandoned at its timeout", () => {
  expect(
    clientView([sent(1, 'answered', '/orders', 202), sent(2, 'timeout', '/orders/ord_1/cancel'), sent(3, 'error'), sent(4, 'answered', '/orders', 503)]),
  ).toEqual({
    'POST /orders': { attempts: 3, timeouts: 0, connectionErrors: 1, errors5xx: 1 },
    'POST /orders/:id/cancel': { attempts: 1, timeouts: 1, connectionErrors: 0, errors5xx: 0 },
  });
});

describe('recovery (a): the first 10 s window, sliding by 1 s from the fault, in which the bounded routes are within bounds', () => {
  const fault = T0 + 10_000;

  it('is 0 when the fault never pushed them out', () => {
    const requests = [req('POST /orders', 9, 3000), req('POST /orders', 11, 100), req('POST /orders/:id/cancel', 15, 1900)];
    expect(latencyRecoveryMs(fault, requests, [], bounds)).toBe(0);
  });

  it('is the offset of the first window without a slow answer', () => {
    const requests = [req('POST /orders', 10.5, 4000), req('POST /orders', 13.2, 1500), req('POST /orders', 14, 200), req('POST /orders', 20, 200)];
    // Windows from 10 s to 13 s hold the request sent at 13.2 s; the one from 14 s does not.
    expect(latencyRecoveryMs(fault, requests, [], bounds)).toBe(4000);
  });

  it('waits for windows without 5xx, and without attempts the client got no answer to', () => {
    const requests = [req('POST /orders', 11, 5, 503), req('POST /orders', 17, 50), req('POST /orders', 30, 50)];
    // The API down from 12 s to 17 s: the client's attempts were refused; its first answer came at 17 s.
    const refused = [12, 13, 14, 15, 16].map((at) => sent(at, 'error'));
    expect(latencyRecoveryMs(fault, requests, refused, bounds)).toBe(7000);
  });

  it('does not count a window with no answer of a bounded route at all, nor other routes', () => {
    const requests = [req('other', 11, 9000), req('GET /orders/:id', 12, 9000), req('POST /orders', 25.5, 30)];
    expect(latencyRecoveryMs(fault, requests, [], bounds)).toBe(6000);
  });

  it('counts a request the client gave up on as not answered', () => {
    const requests = [req('POST /orders/:id/cancel', 10, 1500, null), req('POST /orders/:id/cancel', 10.5, 100), req('POST /orders', 20, 100)];
    expect(latencyRecoveryMs(fault, requests, [], bounds)).toBe(1000);
  });

  it('is null when they never came back', () => {
    expect(latencyRecoveryMs(fault, [req('POST /orders/:id/cancel', 12, 2500)], [], bounds)).toBeNull();
    expect(latencyRecoveryMs(fault, [], [], bounds)).toBeNull();
  });
});
