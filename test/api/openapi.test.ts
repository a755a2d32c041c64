import SwaggerParser from '@apidevtools/swagger-parser';
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { createApp } from '../../api/app';
import type { CheckoutClient } from '../../api/checkout-client';
import type { ChoreographyClient } from '../../api/choreography-client';
import { openApiDocument, paths } from '../../api/openapi';
import { orderRequestSchema } from '../../api/order-request';
import type { Services } from '../../services';
import { DOCUMENT, expectDocumented, METHODS, pointer, schemaAt } from '../support/openapi';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// GET /openapi.json against the app: it describes every route the app answers,
// it is valid OpenAPI 3.1, its examples pass their schemas, and real responses
// (from a real stack) are what it documents.

/** The operations as written for zod-openapi: their zod schemas next to their examples. */
const operations = Object.entries(paths as ZodOpenApiPathsObject).flatMap(([path, item]) =>
  METHODS.flatMap((method) => (item[method] ? [{ name: `${method.toUpperCase()} ${path}`, op: item[method] as ZodOpenApiOperationObject }] : [])),
);
const parametersOf = (op: ZodOpenApiOperationObject) =>
  Object.values(op.requestParams ?? {}).flatMap((fields) => Object.entries((fields as z.ZodObject).shape));
const exampleOf = (param: z.ZodType): unknown => (z.globalRegistry.get(param)?.param as { example?: unknown } | undefined)?.example;

describe('the OpenAPI document', () => {
  it('describes every route the app answers, and no other', () => {
    // Only its routes are read: none of its dependencies is called.
    const app = createApp({
      checkouts: {} as CheckoutClient,
      choreographies: {} as ChoreographyClient,
      services: {} as Services,
      temporal: { namespace: 'default', uiUrl: 'http://127.0.0.1:8233' },
      ping: async () => undefined,
      operatorToken: 'unused',
      orderSecretKey: 'unused',
      rateLimitPerMinute: 1,
    });
    type RouteLayer = { route?: { path: string; methods: Record<string, boolean> } };
    const answered = (app.router.stack as RouteLayer[]).flatMap(({ route }) =>
      route ? Object.keys(route.methods).map((method) => `${method.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`) : [],
    );
    const documented = Object.entries(DOCUMENT.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(answered.length).toBeGreaterThanOrEqual(8);
    expect(documented.sort()).toEqual(answered.sort());
  });

  it('is valid OpenAPI 3.1, and every schema in it compiles as draft 2020-12', async () => {
    // validate() dereferences the document it is given, in place.
    await expect(SwaggerParser.validate(structuredClone(openApiDocument) as never)).resolves.toBeDefined();
    // The validator does not look inside Schema Objects; ajv does.
    const schemas: string[] = [];
    const walk = (node: unknown, at: string[]) => {
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'schema' || at.join('/') === 'components/schemas') schemas.push(pointer(...at, key));
        else walk(value, [...at, key]);
      }
    };
    walk(openApiDocument, []);
    expect(schemas.length).toBeGreaterThan(30);
    for (const at of schemas) expect([at, typeof schemaAt(at)]).toEqual([at, 'function']);
  });

  it('gives every request body and every parameter an example', () => {
    const missing = operations.flatMap(({ name, op }) => [
      ...(op.requestBody && Object.keys(op.requestBody.content['application/json']?.examples ?? {}).length === 0 ? [`${name} body`] : []),
      ...parametersOf(op).flatMap(([param, schema]) => (exampleOf(schema) === undefined ? [`${name} ${param}`] : [])),
    ]);
    expect(missing).toEqual([]);
  });

  it('every example passes its zod schema: for requests, the one the API validates them with', () => {
    const examples = operations.flatMap(({ name, op }) => [
      ...Object.entries({ request: op.requestBody, ...op.responses }).flatMap(([what, part]) => {
        const media = part && 'content' in part ? part.content?.['application/json'] : undefined;
        return Object.entries(media?.examples ?? {}).map(([example, value]) => ({
          where: `${name} ${what} ${example}`,
          schema: media?.schema,
          value: 'value' in value ? value.value : undefined,
        }));
      }),
      ...parametersOf(op).map(([param, schema]) => ({ where: `${name} ${param}`, schema, value: exampleOf(schema) })),
    ]);
    const failures = examples.flatMap(({ where, schema, value }) => {
      if (!(schema instanceof z.ZodType)) return [`${where}: no zod schema`];
      const parsed = schema.safeParse(value);
      return parsed.success ? [] : [`${where}: ${z.prettifyError(parsed.error)}`];
    });
    expect(failures).toEqual([]);
    expect(examples.length).toBeGreaterThan(30);
  });
});

describe('real responses are what the document says', () => {
  let stack: TestStack;
  let api: TestApi;
  const OPERATOR = { authorization: 'Bearer test-operator-token' };
  // As documented: the README's quick start.
  const QUICK_START = orderRequestSchema.parse(DOCUMENT.paths['/orders'].post?.requestBody?.content['application/json'].examples?.quickStart.value);

  beforeAll(async () => {
    stack = await startTestStack();
    api = startTestApi(stack, { operatorToken: 'test-operator-token' });
  });
  afterAll(async () => {
    api?.close();
    await stack?.stop();
  });

  const send = (method: string, path: string, { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${api.base}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
    });

  /** Reads the order until it reaches `status`, checking every answer on the way. */
  async function readUntil(orderId: string, status: string) {
    for (let i = 0; i < 200; i++) {
      const order = await expectDocumented(await send('GET', `/orders/${orderId}`, { headers: api.asOwner(orderId) }), 'GET /orders/{orderId}');
      if (order.status === status) return order;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`order ${orderId} did not reach ${status}`);
  }

  it('GET /healthz, /openapi.json and /catalog', async () => {
    await expectDocumented(await send('GET', '/healthz'), 'GET /healthz');
    const served = await expectDocumented(await send('GET', '/openapi.json'), 'GET /openapi.json');
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    await expectDocumented(await send('GET', '/catalog'), 'GET /catalog');
  });

  it("the README's order, from 202 to COMPLETED; listed; then too late to cancel", async () => {
    const key = `openapi-${Date.now()}`;
    const placed = await send('POST', '/orders', { body: QUICK_START, headers: { 'Idempotency-Key': key } });
    expect(placed.status).toBe(202);
    const { orderId } = await expectDocumented(placed, 'POST /orders');
    expect(placed.headers.get('location')).toBe(`/orders/${orderId}`);
    const replayed = await send('POST', '/orders', { body: QUICK_START, headers: { 'Idempotency-Key': key } });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await expectDocumented(replayed, 'POST /orders');
    const reused = await send('POST', '/orders', { body: { ...QUICK_START, customerId: 'cust_2' }, headers: { 'Idempotency-Key': key } });
    await expectDocumented(reused, 'POST /orders', 'keyReused');

    await readUntil(orderId, 'COMPLETED');
    // Listed once Temporal's visibility store has caught up.
    let listed: { orderId: string }[] = [];
    for (let i = 0; i < 100 && !listed.some((o) => o.orderId === orderId); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      listed = await expectDocumented(await send('GET', `/orders?customerId=${QUICK_START.customerId}`, { headers: OPERATOR }), 'GET /orders');
    }
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ orderId, status: 'COMPLETED' })]));
    const page = await send('GET', '/orders?limit=1', { headers: OPERATOR });
    await expectDocumented(page, 'GET /orders');
    expect(page.headers.get('link')).toMatch(/^<\/orders\?limit=1&pageToken=[\w-]+\.[\w-]+>; rel="next"$/);
    const counts = await expectDocumented(await send('GET', '/order-counts', { headers: OPERATOR }), 'GET /order-counts');
    expect(counts.COMPLETED).toBeGreaterThanOrEqual(1);

    const cancel = await send('POST', `/orders/${orderId}/cancel`, { headers: api.asOwner(orderId) });
    expect(cancel.status).toBe(409);
    await expectDocumented(cancel, 'POST /orders/{orderId}/cancel');
  });

  it('an order cancelled while the carrier does not answer', async () => {
    const placed = await send('POST', '/orders', { body: { ...QUICK_START, shippingAddress: { ...QUICK_START.shippingAddress, postalCode: '00000' } } });
    const { orderId } = await expectDocumented(placed, 'POST /orders');
    await readUntil(orderId, 'CREATING_SHIPMENT');
    const cancelled = await send('POST', `/orders/${orderId}/cancel`, { headers: api.asOwner(orderId) });
    expect(cancelled.status).toBe(202);
    await expectDocumented(cancelled, 'POST /orders/{orderId}/cancel');
    await readUntil(orderId, 'COMPENSATED');
  });

  it('an order whose refund is refused, resolved by an operator', async () => {
    const placed = await send('POST', '/orders', {
      body: { ...QUICK_START, payment: { token: 'tok_refund_fails' }, shippingAddress: { ...QUICK_START.shippingAddress, country: 'XX' } },
    });
    const { orderId } = await expectDocumented(placed, 'POST /orders');
    await readUntil(orderId, 'FAILED_NEEDS_MANUAL');
    const resolve = (body: unknown) => send('POST', `/orders/${orderId}/resolve`, { body, headers: OPERATOR });
    const resolved = await resolve({ action: 'mark-resolved', note: 'voided by phone, ticket 7' });
    expect(resolved.status).toBe(200);
    expect(await expectDocumented(resolved, 'POST /orders/{orderId}/resolve')).toMatchObject({ status: 'RESOLVED_MANUALLY' });
    await expectDocumented(await resolve({ action: 'retry', note: 'again' }), 'POST /orders/{orderId}/resolve');
  });

  it('errors, and the documented examples that are real ones', async () => {
    const order = (changes: object) => ({ body: { ...QUICK_START, ...changes } });
    await expectDocumented(await send('POST', '/orders', order({ items: [{ sku: 'KB-001', quantity: 0 }], coupon: 'FREE' })), 'POST /orders', 'invalidBody');
    await expectDocumented(await send('POST', '/orders', order({ payment: { token: '4242424242424242' } })), 'POST /orders', 'cardNumber');
    await expectDocumented(await send('POST', '/orders', { body: '{"customerId": ' }), 'POST /orders', 'malformed');
    await expectDocumented(await send('POST', '/orders', { ...order({}), headers: { 'Idempotency-Key': 'has spaces' } }), 'POST /orders', 'badKey');
    await expectDocumented(await send('POST', '/orders', order({ customerId: 'x'.repeat(20_000) })), 'POST /orders', 'tooLarge');
    await expectDocumented(await send('POST', '/orders', { headers: { 'content-type': 'text/plain' }, body: 'hi' }), 'POST /orders', 'notJson');
    await expectDocumented(await send('POST', '/orders', order({ items: [{ sku: 'NOPE-999', quantity: 1 }] })), 'POST /orders', 'unknownSku');

    await expectDocumented(await send('GET', '/orders/ord_nope'), 'GET /orders/{orderId}', 'notFound');
    await expectDocumented(await send('GET', '/orders/ord_nope/events', { headers: OPERATOR }), 'GET /orders/{orderId}/events', 'notFound');
    // This API serves no web app: its pages say it was not built.
    await expectDocumented(await send('GET', '/', { headers: { accept: 'text/html' } }), 'GET /', 'notBuilt');
    await expectDocumented(await send('GET', '/order-counts'), 'GET /order-counts', 'noToken');
    await expectDocumented(await send('POST', '/orders/ord_nope/cancel'), 'POST /orders/{orderId}/cancel', 'notFound');
    await expectDocumented(
      await send('POST', '/orders/ord_nope/resolve', { body: { action: 'retry', note: 'x' }, headers: OPERATOR }),
      'POST /orders/{orderId}/resolve',
      'notFound',
    );
    await expectDocumented(
      await send('POST', '/orders/ord_nope/resolve', { body: { action: 'undo-everything', note: 'x' }, headers: OPERATOR }),
      'POST /orders/{orderId}/resolve',
      'unknownAction',
    );

    await expectDocumented(await send('GET', '/orders'), 'GET /orders', 'noToken');
    await expectDocumented(await send('GET', '/orders', { headers: { authorization: 'Bearer wrong' } }), 'GET /orders', 'wrongToken');
    await expectDocumented(await send('GET', '/orders?status=NOPE', { headers: OPERATOR }), 'GET /orders');
  });

  it('429 once a client is over the rate limit', async () => {
    const limited = startTestApi(stack, { rateLimitPerMinute: 1 });
    try {
      await fetch(`${limited.base}/openapi.json`);
      const res = await fetch(`${limited.base}/openapi.json`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      await expectDocumented(res, 'GET /openapi.json');
    } finally {
      limited.close();
    }
  });
});
