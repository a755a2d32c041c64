import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { CheckoutClient } from '../../api/checkout-client';
import { sleep } from '../../lib/backoff';
import { loadConfig } from '../../lib/config';
import { dataConverter } from '../../lib/data-converter';
import { createLogger } from '../../lib/logger';
import { workflowIdFor } from '../../workflows/workflow-id';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { expectDocumented } from '../support/openapi';
import { ADDRESS } from '../support/scenarios';
import { post, startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { startWorker } from '../support/workers';

// The API in front of sagas whose worker is not there yet, or is behind: no
// answer from the saga within a request's timeout is a quick 503 with
// Retry-After (a cancel), or the order as far as the API knows it (a read),
// never a hang. A real dev server, real workers started per test, a real database.
let stack: TestStack;
const started: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  await Promise.all(
    started.map((orderId) =>
      stack.client.workflow
        .getHandle(workflowIdFor(orderId))
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  await stack?.stop();
});

const order = (postalCode = ADDRESS.postalCode) => ({
  customerId: 'cust_slow',
  items: [{ sku: 'KB-001', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { ...ADDRESS, postalCode },
});

async function placeOrder(api: TestApi, postalCode?: string): Promise<string> {
  const res = await post(api, '/orders', order(postalCode));
  expect(res.status).toBe(202);
  const { orderId } = await res.json();
  started.push(orderId);
  return orderId;
}

/** The accepted updates of this name in the saga's history. */
async function acceptedUpdates(orderId: string, name: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
  return (history.events ?? []).filter(
    (e) =>
      e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED &&
      e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name,
  ).length;
}

describe('a saga no worker runs yet', () => {
  // Its own task queue, which no worker polls until the test starts one.
  const taskQueue = () => `${stack.taskQueue}-idle`;
  let api: TestApi;
  let orderId: string;

  beforeAll(async () => {
    api = startTestApi(stack, { checkouts: new CheckoutClient(stack.client, taskQueue()) });
    // A carrier that never answers: the saga stays cancellable once a worker runs it.
    orderId = await placeOrder(api, '00000');
  });
  afterAll(() => api?.close());

  it('GET /orders/:id answers 200 within its timeout, from what the API knows without the saga', async () => {
    const res = await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) });

    expect(res.status).toBe(200);
    await expectDocumented(res, 'GET /orders/{orderId}');
    expect(await res.json()).toMatchObject({
      orderId,
      status: 'PENDING',
      steps: [],
      saga: { queryable: false, stuck: false, cause: expect.stringMatching(/^(waiting_for_worker|query_timeout)$/), message: expect.any(String) },
      services: { payment: null, ledger: [], inventory: null, shipment: null, notifications: [] },
    });
  }, 10_000);

  it('POST /orders/:id/cancel answers 503 with Retry-After: Temporal holds the cancel', async () => {
    const res = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));

    expect(res.status).toBe(503);
    await expectDocumented(res, 'POST /orders/{orderId}/cancel');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({
      error: expect.stringMatching(/has not taken the cancel within 1\.5 s.*send it again/),
      cancel: 'sent',
    });
  }, 10_000);

  it('the cancel sent again once a worker runs gets the cancel: the saga compensates, and took one cancel', async () => {
    const worker = await startWorker({ ...stack, taskQueue: taskQueue() });
    try {
      let res: Response | undefined;
      for (let attempt = 1; attempt <= 30; attempt++) {
        res = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
        if (res.status !== 503) break;
        // As a client should: after the answer's Retry-After.
        await sleep(Number(res.headers.get('retry-after')) * 1000);
      }
      expect(res!.status).toBe(202);
      await expectDocumented(res!, 'POST /orders/{orderId}/cancel');

      const handle = stack.client.workflow.getHandle(workflowIdFor(orderId));
      expect(await handle.result()).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
      expect(await acceptedUpdates(orderId, 'cancel')).toBe(1);

      // And once more, now that it has closed: the repeat of a cancelled order, with its final state.
      const again = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));
      expect(again.status).toBe(202);
      expect(await again.json()).toMatchObject({ status: 'COMPENSATED', failure: { reason: 'cancelled_by_customer' } });
      expect(await acceptedUpdates(orderId, 'cancel')).toBe(1);
    } finally {
      await worker.stop();
    }
  }, 90_000);
});

describe('a cancel the saga accepted, and the shipment beat', () => {
  let api: TestApi;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;

  beforeAll(async () => {
    const taskQueue = `${stack.taskQueue}-shipped`;
    connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/shipped-first-checkout'),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
      }),
      dataConverter: dataConverter(loadConfig()),
    });
    running = worker.run();
    api = startTestApi(stack, { checkouts: new CheckoutClient(stack.client, taskQueue, undefined, { cancelMs: 10_000 }) });
  });
  afterAll(async () => {
    api?.close();
    worker?.shutdown();
    await running;
    await connection?.close();
  });

  it('is refused with 409, as the validator refuses a shipped order', async () => {
    const orderId = await placeOrder(api);
    const res = await post(api, `/orders/${orderId}/cancel`, undefined, api.asOwner(orderId));

    expect(res.status).toBe(409);
    await expectDocumented(res, 'POST /orders/{orderId}/cancel');
    expect(await res.json()).toEqual({ error: `Order ${orderId} had shipped before the cancel took effect` });
    expect(res.headers.get('retry-after')).toBeNull();
  }, 30_000);
});

describe('a Temporal that takes connections and never answers', () => {
  it('is a 503 with Retry-After within the request timeouts, for a new order and a read', async () => {
    // Accepts, and says nothing: no gRPC handshake, no answer.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const connection = Connection.lazy({ address: `127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
    const api = startTestApi(stack, {
      checkouts: new CheckoutClient(new Client({ connection }), stack.taskQueue),
      // Expected here, and logged at error level: not printed.
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const placed = await post(api, '/orders', order(), { 'Idempotency-Key': 'silent-temporal-1' });
      const read = await fetch(`${api.base}/orders/ord_silent`, { headers: api.asOwner('ord_silent') });
      await expectDocumented(placed, 'POST /orders');
      await expectDocumented(read, 'GET /orders/{orderId}', 'slow');
      for (const res of [placed, read]) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('2');
        expect(await res.json()).toEqual({ error: 'Temporal did not answer in time; try again shortly' });
      }
    } finally {
      api.close();
      await connection.close().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  }, 30_000);
});

itLeavesTheStoresConsistent(() => stack.services);
