import fc from 'fast-check';
import { sleep } from '../../lib/backoff';
import { cardNumbersIn } from '../support/card-numbers';
import { capturingLogger } from '../support/capturing-logger';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { workflowsStarted } from '../support/workflows-started';

// Property-based hostile input: malformed and borderline bodies, headers, ids
// and query strings for every endpoint. Whatever arrives, the API answers
// without a 5xx; what is invalid gets a 4xx JSON {error} with no stack trace;
// and nothing starts a saga or writes a row. No worker runs on this file's task
// queue, so a saga started by mistake would still be counted, never executed.
// The API's request log is kept: one line for each request, none of them an
// error, none carrying a credential or a card number the request did.

let stack: TestStack;
let api: TestApi;
let base: string;
const TOKEN = 'hostile-input-test-token';
const requestLog = capturingLogger();
/** Each request as its log line should name it: method, path and query as sent, status. */
const exchanges: string[] = [];
/** HOSTILE_INPUT_SCALE=20 npx jest test/api/hostile-input.test.ts fuzzes 20 times longer, with a new seed each run. */
const SCALE = Number(process.env.HOSTILE_INPUT_SCALE ?? 1);

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  api = startTestApi(stack, { operatorToken: TOKEN, rateLimitPerMinute: 1_000_000, logger: requestLog.logger });
  base = api.base;
});
afterAll(async () => {
  api?.close();
  await stack?.stop();
});

// --- what the system holds, to compare before and after -----------------------

/** Every table of every service, as a row count and a digest of its content, so updates show too. */
async function tableFingerprints(): Promise<Record<string, string>> {
  const tables = await stack.db.$queryRawUnsafe<{ schema: string; name: string }[]>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('orders', 'inventory', 'payments', 'shipping') AND table_type = 'BASE TABLE'
      ORDER BY 1, 2`,
  );
  expect(tables.length).toBeGreaterThanOrEqual(4);
  const out: Record<string, string> = {};
  for (const { schema, name } of tables) {
    const [row] = await stack.db.$queryRawUnsafe<{ n: number; digest: string | null }[]>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM "${schema}"."${name}" t`,
    );
    out[`${schema}.${name}`] = `${row.n}:${row.digest ?? ''}`;
  }
  return out;
}

// --- requests -------------------------------------------------------------------

type Probe = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** 'invalid': must be a 4xx. 'any': may be valid (e.g. a harmless list query), but never a 5xx. */
  expect: 'invalid' | 'any';
};

async function send(p: Probe): Promise<void> {
  const url = new URL(`${base}${p.path}`);
  const res = await fetch(url, { method: p.method, headers: p.headers, body: p.body, redirect: 'manual' });
  exchanges.push(`${p.method} ${url.pathname}${url.search} ${res.status}`);
  const text = await res.text();
  const where = `${p.method} ${p.path} ${JSON.stringify(p.headers)} ${String(p.body).slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  if (p.expect === 'invalid' && (res.status < 400 || res.status >= 500)) throw new Error(`accepted invalid input: ${where}`);
  if (res.status >= 400) {
    if (!(res.headers.get('content-type') ?? '').startsWith('application/json')) throw new Error(`error without JSON: ${where}`);
    const body = JSON.parse(text);
    if (typeof body.error !== 'string') throw new Error(`error body without {error}: ${where}`);
    if (/\bat .+\.(ts|js):\d+|node_modules|\n\s+at /.test(text)) throw new Error(`stack trace in response: ${where}`);
  }
}

/** Runs a property, then checks that it started no saga, wrote no row, and that the request log shows it safely. */
async function assertHarmless(arb: fc.Arbitrary<Probe>, numRuns: number): Promise<void> {
  const [workflowsBefore, tablesBefore] = [await workflowsStarted(stack), await tableFingerprints()];
  exchanges.length = 0;
  requestLog.lines.length = 0;
  requestLog.raw.length = 0;
  await fc.assert(fc.asyncProperty(arb, send), { numRuns: Math.round(numRuns * SCALE), endOnFailure: true });
  expect(exchanges).toHaveLength(Math.round(numRuns * SCALE));
  expect(await workflowsStarted(stack)).toBe(workflowsBefore);
  expect(await tableFingerprints()).toEqual(tablesBefore);
  await expectLoggedSafely();
}

/** The request log has a line for every request, and nothing in it that a hostile request could have smuggled in. */
async function expectLoggedSafely(): Promise<void> {
  // A request's line is written when its response finishes, and the client
  // shares this process's event loop: the last line may come a turn after its answer.
  for (let i = 0; i < 100 && requestLog.lines.length < exchanges.length; i++) await sleep(50);
  const logged = requestLog.lines.map((l) => {
    const { req, res } = l as { req: { method: string; url: string }; res: { statusCode: number } };
    return `${req.method} ${req.url} ${res.statusCode}`;
  });
  expect(logged).toEqual(exchanges);
  // A 500 is logged at error level with its stack (api/http-error.ts): none may have happened.
  expect(requestLog.lines.filter((l) => l.level === 'error')).toEqual([]);
  // One JSON line per request, whatever control characters its path held.
  expect(requestLog.raw.filter((line) => line.indexOf('\n') !== line.length - 1)).toEqual([]);
  // Headers and bodies stay out: the operator token and card numbers sent as tokens with them.
  const text = requestLog.raw.join('');
  expect(text).not.toContain(TOKEN);
  expect(cardNumbersIn(text)).toEqual([]);
}

// --- building blocks ------------------------------------------------------------

const validOrder = () => ({
  customerId: 'cust_fuzz',
  items: [{ sku: 'KB-001', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { ...ADDRESS },
});

const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** encodeURIComponent throws on lone surrogates, which are worth sending too: as U+FFFD, as a browser would. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/gu, '\ufffd'));
const ORDER_KEYS = ['customerId', 'items', 'payment', 'shippingAddress'];

/** Strings of every kind: ASCII, any code point, lone surrogates, huge, empty. */
const anyString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '💳', 'é'.repeat(300), 'x'.repeat(5_000), '<script>', "'; DROP TABLE orders;--", '${7*7}', '../..'),
);
const notAnId = anyString.filter((s) => !ID.test(s));
const prototypeKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__');
const junkJson = fc.jsonValue({ maxDepth: 3 });
const badQuantity = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 101 }),
  fc.double({ noNaN: true }).filter((n) => !Number.isInteger(n) || n < 1 || n > 100),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1.5, 1e21, '1', '', null, true, [], {}, [1]),
);
/** Tokens that are not tok_ tokens, card numbers above all, or tok_ around a card number. */
const badToken = fc.oneof(
  anyString.filter((s) => !/^tok_[A-Za-z0-9_]+$/.test(s)),
  fc.constantFrom('4242424242424242', '4242 4242 4242 4242', '4000-0566-5566-5556', 'tok_4242424242424242', 'tok_4242_4242_4242_4242', 'tok_', 'TOK_visa'),
  fc.stringMatching(/^\d{13,19}$/),
  fc.stringMatching(/^\d{13,19}$/).map((n) => `tok_${n}`),
);

/** A valid order with exactly one thing made wrong, so every run is invalid by construction. */
const brokenOrder: fc.Arbitrary<unknown> = fc.oneof(
  badQuantity.map((quantity) => ({ ...validOrder(), items: [{ sku: 'KB-001', quantity }] })),
  notAnId.map((customerId) => ({ ...validOrder(), customerId })),
  fc
    .oneof(
      notAnId,
      fc.stringMatching(/^[A-Z]{2,8}-[0-9]{3}$/).map((s) => `ZZFUZZ-${s}`),
    )
    .map((sku) => ({ ...validOrder(), items: [{ sku, quantity: 1 }] })),
  badToken.map((token) => ({ ...validOrder(), payment: { token } })),
  anyString.filter((s) => !/^[A-Z]{2}$/.test(s)).map((country) => ({ ...validOrder(), shippingAddress: { ...validOrder().shippingAddress, country } })),
  fc.constantFrom('name', 'line1', 'city', 'postalCode').chain((field) =>
    fc
      .oneof(
        fc.constantFrom('', '   ', 'x'.repeat(1_000)),
        junkJson.filter((v) => typeof v !== 'string'),
      )
      .map((v) => ({
        ...validOrder(),
        shippingAddress: { ...validOrder().shippingAddress, [field]: v },
      })),
  ),
  fc
    .oneof(
      fc.constant([]),
      fc.array(fc.constant({ sku: 'KB-001', quantity: 1 }), { minLength: 2, maxLength: 25 }),
      junkJson.filter((v) => !Array.isArray(v)),
    )
    .map((items) => ({ ...validOrder(), items })),
  fc.constantFrom(...ORDER_KEYS).map((key) => {
    const o: Record<string, unknown> = validOrder();
    delete o[key];
    return o;
  }),
  fc
    .tuple(
      fc.oneof(anyString, prototypeKeys).filter((k) => !ORDER_KEYS.includes(k)),
      junkJson,
    )
    .map(([key, value]) => ({ ...validOrder(), [key]: value })),
  fc
    .tuple(
      anyString.filter((k) => k !== 'sku' && k !== 'quantity'),
      junkJson,
    )
    .map(([key, value]) => ({ ...validOrder(), items: [{ sku: 'KB-001', quantity: 1, [key]: value }] })),
  junkJson.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !ORDER_KEYS.every((k) => k in v)),
);

/** Body text: the order as JSON, or JSON text no JSON.stringify would write. */
const brokenOrderText = fc.oneof(
  { weight: 4, arbitrary: brokenOrder.map((o) => JSON.stringify(o)) },
  fc.constantFrom(
    // JSON.parse makes these own properties, so they reach the schema as keys.
    JSON.stringify(validOrder()).replace(/^\{/, '{"__proto__":{"isAdmin":true},'),
    JSON.stringify(validOrder()).replace(/^\{/, '{"constructor":{"prototype":{"isAdmin":true}},'),
    JSON.stringify(validOrder()).replace('"quantity":1', '"quantity":1e400'),
    JSON.stringify(validOrder()).replace('"quantity":1', '"quantity":-1e400'),
    JSON.stringify(validOrder()).replace('"quantity":1', '"quantity":NaN'),
    JSON.stringify(validOrder()).replace('"quantity":1', '"quantity":100000000000000000000000000001'),
    JSON.stringify(validOrder()).replace('"customerId":"cust_fuzz"', '"customerId":"cust_fuzz","customerId":"cust\\u0000"'),
    JSON.stringify(validOrder()).slice(0, -1),
    `${JSON.stringify(validOrder())}garbage`,
    '',
    'null',
    '[]',
    '"tok_visa"',
    '{"a":'.repeat(5_000),
    '['.repeat(10_000),
    '\ufeff{}',
  ),
  anyString,
);

// fetch refuses control characters and anything past Latin-1 in header values, and HTTP trims spaces at both ends.
const headerValue = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.replace(/[^\t\x20-\x7e\xa0-\xff]/g, '').trim());
const badIdempotencyKey = fc.oneof(
  fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 20 }), fc.string({ unit: 'grapheme-ascii', maxLength: 20 })).map(([a, b]) => `k${a} ${b}k`),
  fc.constantFrom('', 'x'.repeat(256), 'kéy', 'k\tk', 'ключ'.normalize().replace(/[^\u0000-\u00ff]/g, 'é')),
  headerValue.filter((s) => !/^[\x21-\x7e]{1,255}$/.test(s)),
);
const authVariants = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constant({ authorization: `Bearer ${TOKEN}` }),
  fc
    .constantFrom('Bearer', `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`op:${TOKEN}`).toString('base64')}`, `bearer  ${TOKEN}`)
    .map((authorization) => ({ authorization })),
  headerValue.map((authorization) => ({ authorization })),
);
const weirdId = fc.oneof(
  anyString.map(encode),
  fc.constantFrom(
    '%',
    '%zz',
    '%E0%A4%A',
    '%00',
    '%2F',
    'a%2Fb',
    '..',
    '%2e%2e',
    '.',
    'x'.repeat(65),
    '%F0%9F%92%B3',
    'ord_%0d%0a',
    '%25',
    'ord_1;drop',
    'ord_1?x=1',
    'ord_1#x',
  ),
  fc.stringMatching(ID).map((s) => `ord_${s}`.slice(0, 64)),
);

// --- the properties ---------------------------------------------------------------

it('POST /orders: malformed and borderline bodies are 4xx JSON and change nothing', async () => {
  await assertHarmless(
    fc
      .record({
        body: brokenOrderText,
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'),
      })
      .map(({ body, contentType }) => ({ method: 'POST', path: '/orders', headers: { 'content-type': contentType }, body, expect: 'invalid' as const })),
    150,
  );
});

it('POST /orders: a valid body with odd content types, encodings or Idempotency-Keys is 4xx and changes nothing', async () => {
  const body = JSON.stringify(validOrder());
  await assertHarmless(
    fc
      .oneof(
        fc
          .constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json; charset=latin1',
            // utf-7 is left out: the ASCII body means the same in it, so body-parser rightly accepts it.
            'application/json; charset=utf-16',
            'application/jsonx',
            'application/vnd.api+json',
            'application/merge-patch+json',
            'text/json',
            'json',
            '*/*',
            'application/*',
            '',
          )
          .map((contentType) => ({ 'content-type': contentType })),
        fc
          .constantFrom('gzip', 'deflate', 'br', 'zstd', 'x-junk', 'gzip, gzip', 'compress')
          .map((encoding) => ({ 'content-type': 'application/json', 'content-encoding': encoding })),
        badIdempotencyKey.map((key) => ({ 'content-type': 'application/json', 'idempotency-key': key })),
      )
      .map((headers) => ({ method: 'POST', path: '/orders', headers, body, expect: 'invalid' as const })),
    60,
  );
});

it('GET /orders/:id, its events, POST cancel and POST resolve: weird ids, junk bodies, any credentials', async () => {
  const junkBody = fc.oneof(
    brokenOrderText,
    junkJson.map((v) => JSON.stringify(v)),
    fc.constant(undefined),
  );
  await assertHarmless(
    fc.oneof(
      weirdId.map((id) => ({ method: 'GET', path: `/orders/${id}`, headers: {}, expect: 'invalid' as const })),
      // Without the order's secret: the 404 of an unknown order, before any stream opens.
      fc.tuple(weirdId, authVariants).map(([id, auth]) => ({ method: 'GET', path: `/orders/${id}/events`, headers: auth, expect: 'invalid' as const })),
      fc.tuple(weirdId, junkBody, fc.constantFrom('application/json', 'text/plain')).map(([id, body, type]) => ({
        method: 'POST',
        path: `/orders/${id}/cancel`,
        headers: { 'content-type': type },
        body,
        expect: 'invalid' as const,
      })),
      fc
        .tuple(
          weirdId,
          fc.oneof(junkBody, fc.constant(JSON.stringify({ action: 'mark-resolved', note: 'fuzz' }))),
          authVariants,
          fc.constantFrom('application/json', 'text/plain', ''),
        )
        .map(([id, body, auth, type]) => ({
          method: 'POST',
          path: `/orders/${id}/resolve`,
          headers: { 'content-type': type, ...auth },
          body,
          // Every id here names no order: even a valid, authorised resolution is 404.
          expect: 'invalid' as const,
        })),
      fc
        .tuple(fc.constantFrom('PUT', 'PATCH', 'DELETE'), weirdId)
        .map(([method, id]) => ({ method, path: `/orders/${id}`, headers: {}, expect: 'invalid' as const })),
    ),
    100,
  );
});

it('GET /orders: junk query strings, with and without credentials', async () => {
  const rawQuery = fc.oneof(
    fc.dictionary(fc.oneof(anyString, prototypeKeys, fc.constantFrom('status', 'customerId')), anyString, { maxKeys: 4 }).map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${encode(k)}=${encode(v)}`)
        .join('&'),
    ),
    fc.constantFrom(
      'status=COMPLETED&status=FAILED',
      'status[]=COMPLETED',
      'status[$ne]=x',
      'customerId=" OR WorkflowType != "',
      'customerId=a%22%20OR%201%3D1',
      '__proto__[status]=COMPLETED',
      'constructor[prototype][x]=1',
      '%zz=%zz',
      'status=%E0%A4%A',
      '&&&==',
      'status',
      'x'.repeat(8_000),
    ),
  );
  await assertHarmless(
    fc.tuple(rawQuery, authVariants).map(([query, auth]) => ({
      method: 'GET',
      path: `/orders?${query}`,
      headers: auth,
      // A well-formed filter is a valid, read-only request.
      expect: 'any' as const,
    })),
    100,
  );
});
