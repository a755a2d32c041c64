import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEV_OPERATOR_TOKEN, loadConfig, operatorToken } from '../../lib/config';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

const TOKEN = 'operator-auth-test-token';

describe('operator token configuration', () => {
  const tokenFor = (env: NodeJS.ProcessEnv) => operatorToken(loadConfig(env));

  it('defaults to the documented dev token with NODE_ENV=development', () => {
    const dev = { NODE_ENV: 'development' };
    expect(tokenFor(dev)).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ ...dev, OPERATOR_TOKEN: '' })).toBe(DEV_OPERATOR_TOKEN);
    expect(tokenFor({ ...dev, OPERATOR_TOKEN: 'mine' })).toBe('mine');
  });

  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset', {}],
  ])('with %s, refuses a missing, public or short token', (_mode, env) => {
    expect(() => tokenFor(env)).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: '' })).toThrow(/OPERATOR_TOKEN must be set/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: DEV_OPERATOR_TOKEN })).toThrow(/public development default/);
    expect(() => tokenFor({ ...env, OPERATOR_TOKEN: 'short' })).toThrow(/at least 16/);
    expect(tokenFor({ ...env, OPERATOR_TOKEN: 'a'.repeat(32) })).toBe('a'.repeat(32));
  });

  it('refuses a token no client could send in a header', () => {
    expect(() => loadConfig({ OPERATOR_TOKEN: 'has space' })).toThrow(/Bearer token/);
  });

  it.each([
    ['in production without a token', { NODE_ENV: 'production', OPERATOR_TOKEN: '' }, /OPERATOR_TOKEN must be set unless NODE_ENV=development/],
    ['without NODE_ENV, with the public dev token', { NODE_ENV: undefined, OPERATOR_TOKEN: DEV_OPERATOR_TOKEN }, /OPERATOR_TOKEN must not be the public/],
    ['with an unknown NODE_ENV', { NODE_ENV: 'staging', OPERATOR_TOKEN: 'a'.repeat(32) }, /NODE_ENV: must be production or development/],
  ])('the API process exits at startup %s, with one line that names the variable', (_case, vars, message) => {
    const root = path.resolve(__dirname, '../..');
    const run = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['api/server.ts'], {
      cwd: root,
      // An address nothing listens on: had it gone past the check, it would hang or fail differently.
      env: { ...process.env, ...vars, TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).msg).toMatch(message);
  });
});

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

  it('customer endpoints need no token', async () => {
    expect((await fetch(`${base}/orders/ord_nope`)).status).toBe(404);
    expect((await fetch(`${base}/catalog`)).status).toBe(200);
  });
});
