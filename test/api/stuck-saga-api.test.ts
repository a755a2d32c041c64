import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { CheckoutClient } from '../../api/checkout-client';
import { sleep } from '../../lib/backoff';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { dataConverter } from '../../lib/data-converter';
import { workflowIdFor } from '../../workflows/workflow-id';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { expectDocumented } from '../support/openapi';
import { ADDRESS } from '../support/scenarios';
import { post, startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// The API in front of sagas the server will not query or update, because
// their workflow task is failing: a real dev server, no worker but the ones
// each test starts, and a real database.
let stack: TestStack;
let brokenCheckout: WorkflowBundle;
const started: string[] = [];
const asOperator = { authorization: 'Bearer test-operator-token' };

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  brokenCheckout = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/broken-checkout'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
});
afterAll(async () => {
  await Promise.all(started.map((orderId) => stack.client.workflow.getHandle(workflowIdFor(orderId)).terminate('test over')));
  await stack?.stop();
});

async function placeOrder(api: TestApi): Promise<string> {
  const res = await post(api, '/orders', {
    customerId: 'cust_stuck',
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: ADDRESS,
  });
  expect(res.status).toBe(202);
  const { orderId } = await res.json();
  started.push(orderId);
  return orderId;
}

/** What the services hold for the order, and the rows of every table: an answer that changed nothing leaves both as they were. */
async function footprint(orderId: string) {
  const { payments, inventory, shipping, notifications } = stack.services;
  return Promise.all([
    payments.paymentFor(orderId),
    inventory.reservationFor(orderId),
    shipping.shipmentFor(orderId),
    notifications.notificationsFor(orderId),
    stack.db.order.count(),
    stack.db.reservation.count(),
    stack.db.payment.count(),
    stack.db.shipment.count(),
  ]);
}

async function untilTaskAttempt(orderId: string, attempt: number): Promise<void> {
  const handle = stack.client.workflow.getHandle(workflowIdFor(orderId));
  for (let i = 0; i < 150; i++) {
    if (((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= attempt) return;
    await sleep(200);
  }
  throw new Error(`the workflow task of ${orderId} did not reach attempt ${attempt}`);
}

/** The update deadline of this file's API: short, so that waiting out a retried task takes seconds. */
const UPDATE_WAIT_MS = 1500;
const SINCE = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('a saga whose workflow task keeps failing', () => {
  let api: TestApi;
  let orderId: string;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;

  beforeAll(async () => {
    // An update deadline beyond the test's timeout: had the API sent an update
    // and waited it out before its 409, the test would time out instead of passing.
    api = startTestApi(stack, { checkouts: new CheckoutClient(stack.client, stack.taskQueue, undefined, { updateMs: 10 * 60_000, cancelMs: 10 * 60_000 }) });
    orderId = await placeOrder(api);
    // A worker whose `checkout` throws in every workflow task, as a bug or a
    // nondeterminism error after a deploy would.
    connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: stack.taskQueue,
      workflowBundle: brokenCheckout,
      dataConverter: dataConverter(loadConfig()),
    });
    running = worker.run();
    await untilTaskAttempt(orderId, 3);
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    api?.close();
  });

  it('GET /orders/:id answers 200 with the last recorded status, the services’ views, and why the saga cannot be queried', async () => {
    const res = await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) });

    expect(res.status).toBe(200);
    await expectDocumented(res, 'GET /orders/{orderId}');
    expect(await res.json()).toEqual({
      orderId,
      coordination: 'orchestration',
      status: 'PENDING',
      steps: [],
      saga: {
        queryable: false,
        stuck: true,
        attempt: expect.any(Number),
        cause: 'workflow_worker_unhandled_failure',
        message: 'Broken on purpose: this checkout fails every workflow task',
        since: SINCE,
      },
      activities: [],
      // Its worker is unversioned, and no workflow task of it ever completed.
      build: null,
      services: { payment: null, ledger: [], inventory: null, shipment: null, notifications: [] },
      links: { self: `/orders/${orderId}`, temporalUi: expect.stringContaining(`/workflows/order-${orderId}/`) },
    });
  });

  it('POST /orders/:id/cancel answers 409 without waiting, says an operator must rescue it, and changes nothing', async () => {
    const before = await footprint(orderId);
    const res = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));

    expect(res.status).toBe(409);
    await expectDocumented(res, 'POST /orders/{orderId}/cancel');
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual({
      error: expect.stringMatching(/stuck.*npm run ops -- rescue/),
      saga: expect.objectContaining({ queryable: false, stuck: true, cause: 'workflow_worker_unhandled_failure' }),
    });
    expect(await footprint(orderId)).toEqual(before);
  });

  it('POST /orders/:id/resolve answers 409 without waiting too', async () => {
    const res = await post(api, `/orders/${orderId}/resolve`, { action: 'retry', note: 'try again' }, asOperator);

    expect(res.status).toBe(409);
    await expectDocumented(res, 'POST /orders/{orderId}/resolve');
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/stuck/), saga: { stuck: true } });
  });
});

describe('a saga whose workflow task failed once, and no worker has retried it yet', () => {
  let api: TestApi;
  let orderId: string;

  beforeAll(async () => {
    // Its own task queue: no worker, nor the other saga's retried tasks, ever poll it.
    const taskQueue = `${stack.taskQueue}-once`;
    api = startTestApi(stack, { checkouts: new CheckoutClient(stack.client, taskQueue, undefined, { updateMs: UPDATE_WAIT_MS, cancelMs: UPDATE_WAIT_MS }) });
    orderId = await placeOrder(api);
    // A worker takes the first task, fails it, and goes away: the retry waits
    // for a worker, and until one comes the server refuses queries and updates.
    const { workflowService } = stack.client;
    const task = await stack.client.withDeadline(Date.now() + 30_000, () =>
      workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'short-lived-worker' }),
    );
    await workflowService.respondWorkflowTaskFailed({
      namespace: 'default',
      taskToken: task.taskToken,
      cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
      failure: { message: 'Failed once' },
      identity: 'short-lived-worker',
    });
    await untilTaskAttempt(orderId, 2);
  });
  afterAll(() => api?.close());

  // The server still takes queries and updates at this attempt, and holds them
  // until a worker runs the task: here, never. GET is not tried (it would wait
  // for the server's query timeout); cancel and resolve are sent, since a task
  // that is only being retried may succeed any moment, and wait no longer than
  // their deadline.
  it('cancel and resolve wait for the retried task within their deadline, then answer 503 with Retry-After', async () => {
    const sent = Date.now();
    const cancelled = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
    const resolved = await post(api, `/orders/${orderId}/resolve`, { action: 'mark-resolved', note: 'n/a' }, asOperator);

    // They did wait; how much longer than the deadlines a slow machine takes is not this test's business.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(2 * UPDATE_WAIT_MS);
    await expectDocumented(cancelled, 'POST /orders/{orderId}/cancel');
    await expectDocumented(resolved, 'POST /orders/{orderId}/resolve');
    for (const res of [cancelled, resolved]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
      expect(await res.json()).toEqual({
        error: expect.stringMatching(/being retried/),
        saga: { queryable: false, stuck: false, attempt: 2, cause: 'workflow_worker_unhandled_failure', message: 'Failed once', since: SINCE },
      });
    }
  });
});

describe('a Temporal the API cannot reach', () => {
  it('is a 503 with Retry-After, not a fallback', async () => {
    // Nothing listens on port 1; no gRPC retries, so the failure is immediate.
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const api = startTestApi(stack, {
      checkouts: new CheckoutClient(new Client({ connection }), stack.taskQueue),
      // An outage is logged at error level, with its cause: expected here, so not printed.
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const asOwner = api.asOwner('ord_unreachable');
      for (const res of [
        await fetch(`${api.base}/orders/ord_unreachable`, { headers: asOwner }),
        await post(api, '/orders/ord_unreachable/cancel', undefined, asOwner),
      ]) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('10');
        expect(await res.json()).toEqual({ error: 'Temporal is unavailable; try again later' });
      }
    } finally {
      api.close();
      await connection.close();
    }
  });
});

itLeavesTheStoresConsistent(() => stack.services);
