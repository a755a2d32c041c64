import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { workflowsStarted } from '../support/workflows-started';

// The API over a real Temporal dev server, a real worker and a real database.
let stack: TestStack;
let api: TestApi;
let base: string;
const OPERATOR_TOKEN = 'test-operator-token';
const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}` };

beforeAll(async () => {
  stack = await startTestStack({ messaging: true });
  api = startTestApi(stack, { operatorToken: OPERATOR_TOKEN, ping: async () => void (await stack.db.$queryRaw`SELECT 1`) });
  base = api.base;
});
afterAll(async () => {
  api?.close();
  await stack?.stop();
});

const validOrder = () => ({
  customerId: 'cust_api',
  items: [{ sku: 'KB-001', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { ...ADDRESS },
});

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function rowsWritten(): Promise<number[]> {
  return Promise.all([
    stack.db.order.count(),
    stack.db.reservation.count(),
    stack.db.payment.count(),
    stack.db.shipment.count(),
    stack.db.product.aggregate({ _sum: { available: true } }).then((a) => a._sum.available ?? 0),
  ]);
}

async function waitForTerminal(orderId: string) {
  for (let i = 0; i < 150; i++) {
    const res = await fetch(`${base}/orders/${orderId}`, { headers: api.asOwner(orderId) });
    const body = await res.json();
    if (['COMPLETED', 'COMPENSATED', 'FAILED'].includes(body.status)) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`order ${orderId} did not finish`);
}

describe('POST /orders', () => {
  it('accepts a valid order with 202, and the saga completes', async () => {
    const res = await post(validOrder());
    const body = await res.json();

    expect(res.status).toBe(202);
    expect(body).toEqual({
      orderId: expect.stringMatching(/^ord_/),
      coordination: 'orchestration',
      workflowId: `order-${body.orderId}`,
      runId: expect.any(String),
      status: 'PENDING',
      secret: api.asOwner(body.orderId).authorization.replace('Bearer ', ''),
      links: {
        self: `/orders/${body.orderId}`,
        page: `/orders/${body.orderId}#secret=${body.secret}`,
        events: `/orders/${body.orderId}/events`,
        temporalUi: `http://127.0.0.1:8233/namespaces/default/workflows/order-${body.orderId}/${body.runId}/history`,
      },
    });

    const order = await waitForTerminal(body.orderId);
    expect(order).toMatchObject({
      orderId: body.orderId,
      status: 'COMPLETED',
      total: 12900,
      steps: expect.arrayContaining([{ name: 'authorizePayment', status: 'completed', attempts: 1 }]),
      services: {
        payment: { status: 'CAPTURED', amount: 12900 },
        inventory: { status: 'COMMITTED', items: [{ sku: 'KB-001', quantity: 1 }] },
        shipment: { status: 'CREATED', trackingNumber: expect.stringMatching(/^TRK/) },
      },
    });
  });

  it('a finished saga ends with exactly one notification, shown in GET /orders/:id', async () => {
    const { orderId } = await (await post({ ...validOrder(), payment: { token: 'tok_declined' } })).json();
    await waitForTerminal(orderId);

    let order: { services: { notifications: unknown[] } } | undefined;
    for (let i = 0; i < 100 && !order?.services.notifications.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      order = await (await fetch(`${base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json();
    }
    // Time for a second (wrong) notification to arrive, had the pipeline sent one.
    await new Promise((r) => setTimeout(r, 1500));
    order = await (await fetch(`${base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json();
    expect(order!.services.notifications).toEqual([
      {
        eventId: expect.any(String),
        channel: 'email',
        to: 'cust_api@example.com',
        subject: `Your order ${orderId} could not be completed`,
        body: expect.stringContaining('card declined'),
        sentAt: expect.any(String),
      },
    ]);
  });

  const tooLarge = { ...validOrder(), shippingAddress: { ...validOrder().shippingAddress, line1: 'x'.repeat(20_000) } };
  const invalid: [string, () => Promise<Response>, number, RegExp][] = [
    ['malformed JSON', () => post('{"customerId": '), 400, /malformed json/i],
    ['wrong content type', () => fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, /content-type/i],
    ['a body too large', () => post(tooLarge), 413, /too large/i],
    ['a missing field', () => post({ ...validOrder(), payment: undefined }), 400, /invalid request body/i],
    ['an extra field', () => post({ ...validOrder(), coupon: 'FREE' }), 400, /invalid request body/i],
    ['a zero quantity', () => post({ ...validOrder(), items: [{ sku: 'KB-001', quantity: 0 }] }), 400, /invalid/i],
    ['a fractional quantity', () => post({ ...validOrder(), items: [{ sku: 'KB-001', quantity: 1.5 }] }), 400, /invalid/i],
    ['a string quantity', () => post({ ...validOrder(), items: [{ sku: 'KB-001', quantity: '1' }] }), 400, /invalid/i],
    ['an unknown SKU', () => post({ ...validOrder(), items: [{ sku: 'NOPE-999', quantity: 1 }] }), 422, /unknown sku/i],
    [
      'duplicate SKUs',
      () =>
        post({
          ...validOrder(),
          items: [
            { sku: 'KB-001', quantity: 1 },
            { sku: 'KB-001', quantity: 2 },
          ],
        }),
      400,
      /invalid/i,
    ],
    ['a card number instead of a token', () => post({ ...validOrder(), payment: { token: '4242424242424242' } }), 400, /invalid/i],
    ['a card number dressed as a token', () => post({ ...validOrder(), payment: { token: 'tok_4242_4242_4242_4242' } }), 400, /invalid/i],
    ['a bad Idempotency-Key header', () => post(validOrder(), { 'Idempotency-Key': 'has spaces' }), 400, /idempotency-key/i],
  ];

  it.each(invalid)('rejects %s with a 4xx JSON error, starting nothing and writing nothing', async (_name, send, status, message) => {
    const [workflowsBefore, rowsBefore] = [await workflowsStarted(stack), await rowsWritten()];
    const res = await send();
    const body = await res.json();

    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(body.error).toMatch(message);
    expect(JSON.stringify(body)).not.toMatch(/at .+\.(ts|js):\d+/);
    expect(await workflowsStarted(stack)).toBe(workflowsBefore);
    expect(await rowsWritten()).toEqual(rowsBefore);
  });

  it('names the offending fields', async () => {
    const res = await post({ ...validOrder(), items: [{ sku: 'KB-001', quantity: -1 }], extra: 1 });
    const body = await res.json();
    expect(body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: ['items', 0, 'quantity'] }), expect.objectContaining({ path: [] })]));
  });

  it('an Idempotency-Key replays the same order and starts no second saga', async () => {
    const key = `key-${Date.now()}`;
    const before = await workflowsStarted(stack);
    const first = await post(validOrder(), { 'Idempotency-Key': key });
    const second = await post(validOrder(), { 'Idempotency-Key': key });
    const firstBody = await first.json();
    const secondBody = await second.json();

    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(secondBody).toEqual(firstBody);
    expect(await workflowsStarted(stack)).toBe(before + 1);
  });

  it('the same Idempotency-Key with a different body is refused with 422', async () => {
    const key = `key-${Date.now()}-diff`;
    await post(validOrder(), { 'Idempotency-Key': key });
    const before = await workflowsStarted(stack);
    const res = await post({ ...validOrder(), items: [{ sku: 'KB-001', quantity: 2 }] }, { 'Idempotency-Key': key });

    expect(res.status).toBe(422);
    expect((await res.json()).error).toMatch(/different request body/);
    expect(await workflowsStarted(stack)).toBe(before);
  });
});

describe('GET endpoints', () => {
  it('GET /orders/:id is 404 for an unknown order', async () => {
    const res = await fetch(`${base}/orders/ord_doesnotexist`, { headers: api.asOwner('ord_doesnotexist') });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Order not found' });
  });

  it('GET /catalog lists SKUs with price, available and reserved stock', async () => {
    const res = await fetch(`${base}/catalog`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      expect.arrayContaining([{ sku: 'GPU-01', name: expect.any(String), price: 89900, available: expect.any(Number), reserved: expect.any(Number) }]),
    );
  });

  it('GET /healthz answers ok', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('unknown routes get a JSON 404', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'No route for GET /nope' });
  });
});

async function waitForStatus(orderId: string, status: string) {
  for (let i = 0; i < 150; i++) {
    const body = await (await fetch(`${base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json();
    if (body.status === status) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`order ${orderId} did not reach ${status}`);
}

const postJson = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('POST /orders/:id/cancel', () => {
  it('cancels before the shipment exists with 202; cancelling again has the same effect', async () => {
    const res = await post({ ...validOrder(), shippingAddress: { ...validOrder().shippingAddress, postalCode: '00000' } });
    const { orderId } = await res.json();
    await waitForStatus(orderId, 'CREATING_SHIPMENT');

    const first = await postJson(`/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
    expect(first.status).toBe(202);
    const order = await waitForTerminal(orderId);
    expect(order).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });

    const again = await postJson(`/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
  });

  it('refuses with 409 once the order has shipped', async () => {
    const { orderId } = await (await post(validOrder())).json();
    await waitForTerminal(orderId);
    const res = await postJson(`/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatch(/COMPLETED/);
  });

  it('is 404 for an unknown order', async () => {
    expect((await postJson('/orders/ord_nope/cancel', undefined, api.asOwner('ord_nope'))).status).toBe(404);
  });
});

describe('manual resolution', () => {
  it('an order whose refund is refused is listed for operators and resolved through the API', async () => {
    const { orderId } = await (
      await post({ ...validOrder(), payment: { token: 'tok_refund_fails' }, shippingAddress: { ...validOrder().shippingAddress, country: 'XX' } })
    ).json();
    await waitForStatus(orderId, 'FAILED_NEEDS_MANUAL');

    // The list comes from Temporal's visibility store, which is eventually consistent: on the production
    // topology the status upsert reaches it a moment after the saga's own state.
    const listOperatorQueue = async () => (await fetch(`${base}/orders?status=FAILED_NEEDS_MANUAL`, { headers: asOperator })).json();
    let listed = await listOperatorQueue();
    for (let i = 0; i < 50 && !listed.some((o: { orderId: string }) => o.orderId === orderId); i++) {
      await new Promise((r) => setTimeout(r, 200));
      listed = await listOperatorQueue();
    }
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ orderId, status: 'FAILED_NEEDS_MANUAL', customerId: 'cust_api' })]));

    expect((await postJson(`/orders/${orderId}/resolve`, { action: 'undo-everything', note: 'x' }, asOperator)).status).toBe(400);
    const retried = await postJson(`/orders/${orderId}/resolve`, { action: 'retry', note: 'provider was down' }, asOperator);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ status: 'FAILED_NEEDS_MANUAL', failedCompensations: [{ reason: 'reversal_rejected' }] });

    const closed = await postJson(`/orders/${orderId}/resolve`, { action: 'mark-resolved', note: 'voided by phone, ticket 7' }, asOperator);
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({
      status: 'RESOLVED_MANUALLY',
      resolutions: [{ action: 'retry' }, { action: 'mark-resolved', note: 'voided by phone, ticket 7' }],
    });

    const again = await postJson(`/orders/${orderId}/resolve`, { action: 'retry', note: 'again' }, asOperator);
    expect(again.status).toBe(409);
  });

  it('GET /orders rejects an unknown status filter', async () => {
    const res = await fetch(`${base}/orders?status=NOPE`, { headers: asOperator });
    expect(res.status).toBe(400);
  });
});

describe("an order's secret", () => {
  it("reading, watching or cancelling an order without its secret or the operator token is the unknown order's 404", async () => {
    const { orderId, secret } = await (await post(validOrder())).json();
    const otherSecret = api.asOwner('ord_other').authorization;
    const notFound = { status: 404, body: { error: 'Order not found' } };
    const attempts: Record<string, string>[] = [
      {},
      { authorization: otherSecret },
      { authorization: 'Bearer nope' },
      { authorization: `Basic ${secret}` },
      { authorization: secret },
    ];
    for (const headers of attempts) {
      for (const res of [
        await fetch(`${base}/orders/${orderId}`, { headers }),
        await fetch(`${base}/orders/${orderId}/events`, { headers }),
        await postJson(`/orders/${orderId}/cancel`, undefined, headers),
      ]) {
        expect({ status: res.status, body: await res.json() }).toEqual(notFound);
      }
    }
    // The secret and the operator token both open it.
    expect((await fetch(`${base}/orders/${orderId}`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    expect((await fetch(`${base}/orders/${orderId}`, { headers: asOperator })).status).toBe(200);
    await waitForTerminal(orderId);
  });

  it('a retried POST with the same Idempotency-Key gets the same secret', async () => {
    const key = `key-${Date.now()}-secret`;
    const first = await (await post(validOrder(), { 'Idempotency-Key': key })).json();
    const second = await (await post(validOrder(), { 'Idempotency-Key': key })).json();
    expect(second.secret).toBe(first.secret);
    await waitForTerminal(first.orderId);
  });
});

describe('GET /orders/:id/events', () => {
  /** Reads a Server-Sent Events stream until `until` says stop or the stream ends. */
  async function readEvents(res: Response, until: (events: { event: string; id?: string; data: any }[]) => boolean = () => false) {
    const events: { event: string; id?: string; data: any }[] = [];
    let retry: number | undefined;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
        );
        if (fields.retry) retry = Number(fields.retry);
        if (fields.event) events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
      }
      if (until(events)) {
        await reader.cancel();
        break;
      }
    }
    return { events, retry };
  }

  it('pushes the order as GET /orders/:id shows it, on each change, until it can no longer change', async () => {
    const { orderId, secret } = await (await post(validOrder())).json();
    const res = await fetch(`${base}/orders/${orderId}/events`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { events, retry } = await readEvents(res);
    expect(retry).toBeGreaterThan(0);
    const orders = events.filter((e) => e.event === 'order');
    expect(events.at(-1)!.event).toBe('end');
    expect(new Set(orders.map((e) => e.id)).size).toBe(orders.length);
    const last = orders.at(-1)!.data;
    expect(last).toMatchObject({ orderId, status: 'COMPLETED', services: { notifications: [expect.anything()] } });
    expect(last.steps.every((s: { status: string }) => s.status === 'completed')).toBe(true);
    // Every status the saga went through on the way, in order (a fast step may come and go between two reads).
    const statuses = [...new Set(orders.map((e) => e.data.status))];
    expect(statuses.at(-1)).toBe('COMPLETED');
  });

  it('a reconnecting client with the last event id gets nothing it has already seen', async () => {
    const { orderId } = await (await post(validOrder())).json();
    await waitForTerminal(orderId);
    const first = await readEvents(await fetch(`${base}/orders/${orderId}/events`, { headers: api.asOwner(orderId) }));
    const lastId = first.events.filter((e) => e.event === 'order').at(-1)!.id!;
    const again = await readEvents(await fetch(`${base}/orders/${orderId}/events`, { headers: { ...api.asOwner(orderId), 'last-event-id': lastId } }));
    expect(again.events.map((e) => e.event)).toEqual(['end']);
  });

  it('is 404 for an unknown order', async () => {
    expect((await fetch(`${base}/orders/ord_nope/events`, { headers: api.asOwner('ord_nope') })).status).toBe(404);
  });
});

describe('operators: pages of orders, counts', () => {
  it('GET /orders pages with a Link header; GET /order-counts counts by status', async () => {
    const placed = await Promise.all([1, 2, 3].map(async () => (await (await post(validOrder())).json()).orderId as string));
    await Promise.all(placed.map(waitForTerminal));
    const seen: string[] = [];
    let next: string | null = '/orders?limit=2';
    while (next) {
      const res: Response = await fetch(`${base}${next}`, { headers: asOperator });
      expect(res.status).toBe(200);
      const page = await res.json();
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((o: { orderId: string }) => o.orderId));
      next = res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null;
    }
    expect(seen).toEqual(expect.arrayContaining(placed));
    expect(new Set(seen).size).toBe(seen.length);

    const counts = await (await fetch(`${base}/order-counts`, { headers: asOperator })).json();
    expect(counts.COMPLETED).toBeGreaterThanOrEqual(3);
    expect(Object.keys(counts)).toContain('FAILED_NEEDS_MANUAL');
    expect((await fetch(`${base}/order-counts`)).status).toBe(401);
    // A token the API did not issue never reaches Temporal.
    for (const forged of ['bm90LWEtdG9rZW4', 'bm90LWEtdG9rZW4.bm90LWEtbWFj']) {
      expect((await fetch(`${base}/orders?pageToken=${forged}`, { headers: asOperator })).status).toBe(400);
    }
  });
});

itLeavesTheStoresConsistent(() => stack.services);
