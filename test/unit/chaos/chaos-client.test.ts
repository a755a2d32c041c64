import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChaosClient } from '../../../chaos/chaos-client';
import { freePort } from '../../../scripts/dev-server';

// The chaos run's client gives up by recording, never by throwing: an API that
// is down or answers 500 for good must leave a line in the report, not crash
// the run before its audit (as POST /orders/…/cancel once did, after 120 tries).
const quick = { attempts: 3, retryDelayMs: 10, timeoutMs: 2000 };

it('gives up on an API that is not there, and records why', async () => {
  const client = new ChaosClient(`http://127.0.0.1:${await freePort()}`, quick);

  await expect(client.send('cancel', 'POST', '/orders/ord_x/cancel')).resolves.toBeUndefined();

  expect(client.failures).toEqual([{ request: 'cancel', method: 'POST', path: '/orders/ord_x/cancel', last: 'ECONNREFUSED', attempts: 3 }]);
  expect(client.retries).toBe(3);
});

describe('against an API that answers', () => {
  let status = 500;
  let requests = 0;
  let server: Server;
  let client: ChaosClient;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"Internal server error"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new ChaosClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, quick);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    requests = 0;
    client.failures.length = 0;
  });

  it('retries a 500 until its budget is spent, then records the last answer', async () => {
    status = 500;
    await expect(client.send('place', 'POST', '/orders', { body: {} })).resolves.toBeUndefined();
    expect(requests).toBe(3);
    expect(client.failures).toEqual([{ request: 'place', method: 'POST', path: '/orders', last: '500 {"error":"Internal server error"}', attempts: 3 }]);
  });

  it('does not retry an answer it does not accept: asking again would get the same', async () => {
    status = 409;
    await expect(client.send('place', 'POST', '/orders', { accept: (s) => s === 202 })).resolves.toBeUndefined();
    expect(requests).toBe(1);
    expect(client.failures).toMatchObject([{ request: 'place', last: expect.stringMatching(/^409 /), attempts: 1 }]);
  });

  it('hands back an answer it accepts', async () => {
    status = 409;
    const res = await client.send('cancel', 'POST', '/orders/ord_x/cancel');
    expect(res?.status).toBe(409);
    await res?.text();
    expect(client.failures).toEqual([]);
  });
});
