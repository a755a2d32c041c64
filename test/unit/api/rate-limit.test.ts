import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiDeps } from '../../../api/app';

// The limiter answers before any route runs, so this app's dependencies are
// tripwires: a throttled request that reached Temporal or a service would throw.
const untouchable = <T>(name: string) =>
  new Proxy(
    {},
    {
      get: (_t, prop) => {
        throw new Error(`${name}.${String(prop)} used by a throttled request`);
      },
    },
  ) as T;

let server: Server;
let base: string;
const LIMIT = 3;

beforeAll(() => {
  const app = createApp({
    checkouts: untouchable<ApiDeps['checkouts']>('checkouts'),
    choreographies: untouchable<ApiDeps['choreographies']>('choreographies'),
    services: untouchable<ApiDeps['services']>('services'),
    temporal: { namespace: 'default', uiUrl: 'http://127.0.0.1:8233' },
    ping: async () => undefined,
    operatorToken: 'rate-limit-test-token',
    orderSecretKey: 'rate-limit-test-order-secret-key',
    rateLimitPerMinute: LIMIT,
  });
  server = app.listen(0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

it('over RATE_LIMIT_PER_MINUTE, a client gets 429 JSON with the standard RateLimit headers', async () => {
  for (let i = 1; i <= LIMIT; i++) {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    // Draft 8 adds a partition key (pk=, a hash of the client's key) after these.
    expect(res.headers.get('ratelimit-policy')).toMatch(new RegExp(`^"${LIMIT}-in-1min"; q=${LIMIT}; w=60\\b`));
    expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"${LIMIT}-in-1min"; r=${LIMIT - i}; t=\\d+\\b`));
  }

  const res = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  expect(await res.json()).toEqual({ error: expect.stringMatching(/too many requests/i) });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.headers.get('ratelimit')).toMatch(/r=0;/);
});

it('health checks are never throttled', async () => {
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(200);
});
