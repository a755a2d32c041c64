// Must stay the first import: see tracing-first.ts.
import { spans, stopTracing, tracing } from './tracing-first';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { CheckoutClient } from '../../api/checkout-client';
import { clientInterceptors } from '../../lib/tracing';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// One order through the API, the Temporal client, the workflow, its
// activities and the database, all recorded by an in-memory exporter.
let stack: TestStack;
let api: TestApi;
let base: string;

beforeAll(async () => {
  stack = await startTestStack({ tracing });
  const client = new Client({ connection: stack.client.connection, namespace: 'default', interceptors: clientInterceptors() });
  api = startTestApi(stack, { checkouts: new CheckoutClient(client, stack.taskQueue) });
  base = api.base;
});
afterAll(async () => {
  api?.close();
  await stack?.stop();
  await stopTracing();
});

test('one trace runs from the HTTP request through the workflow and its activities down to SQL', async () => {
  const res = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId: 'cust_traces', items: [{ sku: 'KB-001', quantity: 1 }], payment: { token: 'tok_visa' }, shippingAddress: ADDRESS }),
  });
  expect(res.status).toBe(202);
  const { workflowId } = await res.json();
  await stack.client.workflow.getHandle(workflowId).result();
  await tracing.spanProcessor.forceFlush();

  const all = spans.getFinishedSpans();
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  /** The span's name and its ancestors', nearest first. */
  const lineage = (span: ReadableSpan): string[] => {
    const parent = span.parentSpanContext && byId.get(span.parentSpanContext.spanId);
    return [span.name, ...(parent ? lineage(parent) : [])];
  };

  // Outside Jest the Express instrumentation names it "POST /orders"; here only the HTTP one runs (tracing-first.ts).
  const post = all.find((s) => s.kind === SpanKind.SERVER && s.attributes['http.request.method'] === 'POST' && s.attributes['url.path'] === '/orders');
  expect(post).toBeDefined();
  expect(post!.parentSpanContext).toBeUndefined();
  const traceId = post!.spanContext().traceId;

  // An INSERT of the reservation, inside reserveInventory's activity span, inside the workflow run the POST started.
  const reservationInsert = all.find(
    (s) => s.name === 'prisma:client:db_query' && /INSERT INTO "?inventory"?\."?reservations"?/.test(String(s.attributes['db.query.text'])),
  );
  expect(reservationInsert?.spanContext().traceId).toBe(traceId);
  expect(reservationInsert!.attributes['db.system.name']).toBe('postgresql');
  const chain = lineage(reservationInsert!).filter((name) => !name.startsWith('prisma:'));
  expect(chain).toEqual(['RunActivity:reserveInventory', 'StartActivity:reserveInventory', 'RunWorkflow:checkout', 'StartWorkflow:checkout', post!.name]);

  // Every step of the saga is in that one trace.
  const inTrace = all.filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
  for (const step of [
    'createOrder',
    'checkFraud',
    'reserveInventory',
    'authorizePayment',
    'createShipment',
    'capturePayment',
    'commitInventory',
    'closeOrder',
  ]) {
    expect(inTrace).toContain(`RunActivity:${step}`);
  }
  // The workflow spans came out of the sandbox with their parents (see asV1Processor in lib/tracing.ts).
  expect(all.filter((s) => s.name.startsWith('StartActivity:')).every((s) => s.parentSpanContext !== undefined)).toBe(true);
});
