import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// The operator endpoints' guard through the API. The token's configuration
// rules are unit tests: test/unit/lib/operator-token.test.ts.
const TOKEN = 'operator-auth-test-token';

describe('operator endpoints', () => {
  let stack: TestStack;
  let api: TestApi;
  let base: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    api = startTestApi(stack, { operatorToken: TOKEN });
    base = api.base;
  });
  afterAll(async () => {
    api?.close();
    await stack?.stop();
  });

  const endpoints: [string, (headers: Record<string, string>) => Promise<Response>][] = [
    ['GET /orders', (headers) => fetch(`${base}/orders?status=FAILED_NEEDS_MANUAL`, { headers })],
    [
      'POST /orders/:id/resolve',
      (headers) =>
        fetch(`${base}/orders/ord_nope/resolve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ action: 'retry', note: 'try again' }),
        }),
    ],
  ];

  describe.each(endpoints)('%s', (_name, send) => {
    it('is 401 with WWW-Authenticate: Bearer without credentials', async () => {
      const res = await send({});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="operator"$/);
      expect((await res.json()).error).toMatch(/Authorization: Bearer/);
    });

    it.each([['Basic b3A6cGFzcw=='], ['Bearer'], ['Bearer '], [`Bearer ${TOKEN} extra`], [`Token ${TOKEN}`], ['Bearer a b']])(
      'is 401 for a malformed Authorization header: %s',
      async (authorization) => {
        const res = await send({ authorization });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_request"/);
        expect(await res.json()).toEqual({ error: expect.any(String) });
      },
    );

    it.each([['Bearer wrong'], [`Bearer ${TOKEN}x`], [`Bearer ${TOKEN.slice(0, -1)}`]])('is 403 for a wrong token: %s', async (authorization) => {
      const res = await send({ authorization });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'Invalid operator token' });
    });

    it('lets the right token through, with "bearer" in any case', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const res = await send({ authorization: `${scheme} ${TOKEN}` });
        // Past the guard: the list answers, and resolving an unknown order is 404.
        expect([200, 404]).toContain(res.status);
      }
    });
  });

  it('checks the token before the body: an unauthenticated junk body is 401, not 400 or 415', async () => {
    const res = await fetch(`${base}/orders/ord_nope/resolve`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{' });
    expect(res.status).toBe(401);
  });

  it('customer endpoints need no operator token: the catalog is public, an order needs its own secret (else 404, as if it did not exist)', async () => {
    expect((await fetch(`${base}/orders/ord_nope`)).status).toBe(404);
    expect((await fetch(`${base}/catalog`)).status).toBe(200);
  });
});
