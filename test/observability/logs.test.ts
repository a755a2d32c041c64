import { writeTemporalEntry } from '../../lib/logger';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { workerLogs } from '../support/worker-logs';
import { capturingLogger } from '../support/capturing-logger';

// One order through the API, a real worker and the database; then what the
// request line, the workflow and the activities logged about it.
let stack: TestStack;
let server: TestApi;
let base: string;
const api = capturingLogger();

beforeAll(async () => {
  stack = await startTestStack();
  server = startTestApi(stack, { logger: api.logger });
  base = server.base;
});
afterAll(async () => {
  server?.close();
  await stack?.stop();
});

test('request, workflow and activity lines all name the order, its workflow and its run', async () => {
  const res = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer not-to-be-logged' },
    body: JSON.stringify({ customerId: 'cust_logs', items: [{ sku: 'KB-001', quantity: 1 }], payment: { token: 'tok_visa' }, shippingAddress: ADDRESS }),
  });
  expect(res.status).toBe(202);
  const { orderId, workflowId, runId } = await res.json();
  await stack.client.workflow.getHandle(workflowId).result();

  // The API: one line for the request, with the order it started.
  const requestLine = api.lines.find((l) => (l.req as { method?: string })?.method === 'POST');
  expect(requestLine).toMatchObject({ level: 'info', component: 'api', orderId, workflowId, runId, res: { statusCode: 202 } });
  expect(requestLine).toHaveProperty('responseTime');
  expect(JSON.stringify(api.lines)).not.toContain('not-to-be-logged');

  const mine = workerLogs().filter((e) => e.meta?.workflowId === workflowId);

  // An activity's line, as the worker's Runtime logger received it...
  const reserve = mine.find((e) => e.message === 'Activity succeeded' && e.meta?.activity === 'reserveInventory');
  expect(reserve?.meta).toMatchObject({ orderId, workflowId, runId, activity: 'reserveInventory', attempt: 1 });
  expect(reserve?.meta).not.toHaveProperty('taskToken');
  // ...and as the JSON line pino writes from it.
  const worker = capturingLogger();
  writeTemporalEntry(worker.logger, reserve!);
  expect(worker.lines).toEqual([
    expect.objectContaining({
      level: 'info',
      msg: 'Activity succeeded',
      component: 'activity',
      orderId,
      workflowId,
      runId,
      activity: 'reserveInventory',
      attempt: 1,
    }),
  ]);
  expect(worker.lines[0].durationMs).toEqual(expect.any(Number));

  // checkFraud is not given the order id; the workflow id names the order all the same.
  expect(mine.find((e) => e.meta?.activity === 'checkFraud')?.meta).toMatchObject({ orderId, runId });

  // Workflow code's lines, through the SDK's sinks and our getLogAttributes interceptor.
  const completed = mine.find((e) => e.message === 'Checkout status changed' && e.meta?.status === 'COMPLETED');
  expect(completed?.meta).toMatchObject({ orderId, workflowId, runId, workflowType: 'checkout', sdkComponent: 'workflow' });
});
