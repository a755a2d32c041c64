import type { Server } from 'node:http';
import { CheckoutClient } from '../../api/checkout-client';
import { createApiMetrics } from '../../lib/metrics';
import { serveMetrics } from '../../lib/metrics-server';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// Two orders through the API and a real worker, one completed and one
// compensated; then what each process's /metrics endpoint says about them.
let stack: TestStack;
let api: TestApi;
let base: string;
let apiMetricsUrl: string;
let workerMetricsUrl: string;
const metricsServers: Server[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  const checkouts = new CheckoutClient(stack.client, stack.taskQueue);
  const metrics = createApiMetrics({ ordersInFlight: () => checkouts.countInFlight() });
  api = startTestApi(stack, { checkouts, metrics });
  base = api.base;
  const apiMetrics = await serveMetrics(metrics.registry, 0, '127.0.0.1');
  const workerMetrics = await serveMetrics(stack.metrics.registry, 0, '127.0.0.1');
  metricsServers.push(apiMetrics, workerMetrics);
  apiMetricsUrl = apiMetrics.url;
  workerMetricsUrl = workerMetrics.url;
});
afterAll(async () => {
  api?.close();
  for (const s of metricsServers) s.close();
  await stack?.stop();
});

async function order(token: string): Promise<string> {
  const res = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId: 'cust_metrics', items: [{ sku: 'KB-001', quantity: 1 }], payment: { token }, shippingAddress: ADDRESS }),
  });
  expect(res.status).toBe(202);
  const { workflowId } = await res.json();
  return workflowId;
}

async function scrape(url: string): Promise<{ text: string; value: (series: string) => number | undefined }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return { text, value };
}

test('the worker counts outcomes, compensations and step durations; the API requests, starts and sagas in flight', async () => {
  const completed = await order('tok_visa');
  const declined = await order('tok_declined');
  await stack.client.workflow.getHandle(completed).result();
  await stack.client.workflow.getHandle(declined).result();

  const worker = await scrape(workerMetricsUrl);
  expect(worker.value('checkout_saga_outcomes_total{status="COMPLETED",reason="none"}')).toBe(1);
  expect(worker.value('checkout_saga_outcomes_total{status="COMPENSATED",reason="card_declined"}')).toBe(1);
  // The declined card undid the reservation and closed the order record.
  expect(worker.value('checkout_compensations_total{step="reserveInventory",outcome="succeeded"}')).toBe(1);
  expect(worker.value('checkout_compensations_total{step="createOrder",outcome="succeeded"}')).toBe(1);
  expect(worker.value('checkout_compensations_total{step="createShipment",outcome="succeeded"}')).toBeUndefined();
  // Two orders reserved stock; one authorization succeeded and one was declined.
  expect(worker.value('checkout_step_duration_seconds_count{activity="reserveInventory",outcome="success"}')).toBe(2);
  expect(worker.value('checkout_step_duration_seconds_count{activity="authorizePayment",outcome="success"}')).toBe(1);
  expect(worker.value('checkout_step_duration_seconds_count{activity="authorizePayment",outcome="failure"}')).toBe(1);
  // How long a capture took depends on the machine; that it was timed does not.
  expect(worker.value('checkout_step_duration_seconds_count{activity="capturePayment",outcome="success"}')).toBe(1);
  expect(worker.value('checkout_step_duration_seconds_sum{activity="capturePayment",outcome="success"}')).toBeGreaterThan(0);
  // No outbox on this branch: no gauge pretending it is empty.
  expect(worker.text).not.toContain('checkout_outbox_backlog');
  expect(worker.text).toContain('process_cpu_seconds_total');

  const api = await scrape(apiMetricsUrl);
  expect(api.value('checkout_orders_started_total{result="started"}')).toBe(2);
  expect(api.value('http_request_duration_seconds_count{method="POST",route="/orders",status_code="202"}')).toBe(2);
  expect(api.value('checkout_orders_in_flight')).toBe(0);
});

test('the outbox backlog appears once a source is registered', async () => {
  stack.metrics.setOutboxBacklogSource(async () => 7);
  expect((await scrape(workerMetricsUrl)).value('checkout_outbox_backlog')).toBe(7);
});
