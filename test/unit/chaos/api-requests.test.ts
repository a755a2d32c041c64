import { parseRequestLog, routeOf } from '../../../chaos/api-requests';

describe("the API's request log, as the chaos report reads it", () => {
  it('names each request by its route, without the order id or the query', () => {
    expect(routeOf('POST', '/orders')).toBe('POST /orders');
    expect(routeOf('GET', '/orders/ord_123')).toBe('GET /orders/:id');
    expect(routeOf('GET', '/orders/ord_123?wait=1')).toBe('GET /orders/:id');
    expect(routeOf('POST', '/orders/ord_123/cancel')).toBe('POST /orders/:id/cancel');
    expect(routeOf('post', '/orders/ord_123/resolve/')).toBe('POST /orders/:id/resolve');
    expect(routeOf('GET', '/orders/ord_123/events')).toBe('other');
    expect(routeOf('GET', '/orders?status=PENDING')).toBe('other');
    expect(routeOf('GET', '/healthz')).toBe('other');
  });

  it('reads the lines of several API processes, and passes over what is not a request', () => {
    const log = [
      '{"level":"info","time":"2026-12-01T10:00:00.000Z","msg":"API listening"}',
      '{"level":"info","time":"2026-12-01T10:00:01.250Z","component":"api","req":{"id":1,"method":"POST","url":"/orders"},"res":{"statusCode":202},"responseTime":250,"msg":"request completed"}',
      '',
      '[chaos] api exited (code 0)',
      '{"level":"error","time":"2026-12-01T10:00:05.000Z","component":"api","orderId":"ord_1","req":{"id":1,"method":"POST","url":"/orders/ord_1/cancel"},"res":{"statusCode":503},"responseTime":3000,"msg":"request errored"}',
      '{"level":"info","time":"2026-12-01T10:00:30.000Z","component":"api","req":{"id":2,"method":"POST","url":"/orders/ord_2/cancel"},"res":{"statusCode":null},"responseTime":20000,"msg":"request aborted"}',
      '{"level":"info","time":"2026-12-01T10:00:06.000Z","req":{"id":2,"meth',
    ].join('\n');

    const { requests, unreadableLines } = parseRequestLog(log);

    const t = Date.parse('2026-12-01T10:00:00.000Z');
    expect(requests).toEqual([
      { route: 'POST /orders', startMs: t + 1000, endMs: t + 1250, ms: 250, status: 202 },
      { route: 'POST /orders/:id/cancel', startMs: t + 2000, endMs: t + 5000, ms: 3000, status: 503 },
      // Given up on by the client: no status.
      { route: 'POST /orders/:id/cancel', startMs: t + 10_000, endMs: t + 30_000, ms: 20_000, status: null },
    ]);
    expect(unreadableLines).toBe(1);
  });
});
