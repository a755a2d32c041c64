import { randomBytes } from 'node:crypto';
import { sleep } from '../../lib/backoff';
import type { BuildRef } from '../../lib/worker-deployment';
import { expectDocumented } from '../support/openapi';
import { ADDRESS } from '../support/scenarios';
import { post, startTestApi, startVersionedApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// Which build a saga runs on (Worker Versioning): GET /orders/:id and GET
// /orders say it, for a saga on a versioned worker, and say null for one on
// an unversioned worker (the stack's own) and for a choreographed order. A
// real dev server, real workers, a real database and the choreography's consumers.

const OPERATOR = { authorization: 'Bearer test-operator-token' };
let stack: TestStack;
/** The API over the stack's task queue, which its unversioned worker polls. */
let unversionedApi: TestApi;
/** The API over a task queue of its own, which only a versioned worker polls. */
let versionedApi: TestApi;
let stopVersioned: (() => Promise<void>) | undefined;
// A deployment of this run only: another test file's builds are not ours.
const build: BuildRef = { deploymentName: `checkout-test-${randomBytes(4).toString('hex')}`, buildId: 'build-a' };

beforeAll(async () => {
  stack = await startTestStack({ choreography: {} });
  const versioned = await startVersionedApi(stack, build);
  [versionedApi, stopVersioned] = [versioned.api, versioned.stop];
  unversionedApi = startTestApi(stack);
});
afterAll(async () => {
  unversionedApi?.close();
  await stopVersioned?.();
  await stack?.stop();
});

const order = (changes: object = {}) => ({
  customerId: 'cust_build',
  items: [{ sku: 'KB-001', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { ...ADDRESS },
  ...changes,
});

async function placeOrder(api: TestApi, changes?: object): Promise<string> {
  const res = await post(api, '/orders', order(changes));
  expect(res.status).toBe(202);
  return (await res.json()).orderId;
}

const read = async (api: TestApi, orderId: string) =>
  expectDocumented(await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) }), 'GET /orders/{orderId}');

/** Reads the order, checking each answer against the document, until it has completed. */
async function readCompleted(api: TestApi, orderId: string) {
  for (let i = 0; i < 200; i++) {
    const body = await read(api, orderId);
    if (body.status === 'COMPLETED') return body;
    await sleep(100);
  }
  throw new Error(`order ${orderId} did not complete`);
}

/** The order as GET /orders lists it, once Temporal's visibility store has caught up with its completion. */
async function listed(api: TestApi, orderId: string, { status = 'COMPLETED', query = '' } = {}) {
  for (let i = 0; i < 100; i++) {
    const rows: { orderId: string; status: string }[] = await expectDocumented(
      await fetch(`${api.base}/orders?customerId=cust_build${query}`, { headers: OPERATOR }),
      'GET /orders',
    );
    const row = rows.find((o) => o.orderId === orderId);
    if (row?.status === status) return row;
    await sleep(100);
  }
  throw new Error(`order ${orderId} was not listed as ${status}`);
}

it('a saga on a versioned worker: GET /orders/:id and GET /orders name its deployment and build, pinned', async () => {
  const orderId = await placeOrder(versionedApi);
  const body = await readCompleted(versionedApi, orderId);
  expect(body.build).toEqual({ ...build, behavior: 'PINNED' });
  // The rest of the answer is as it always was.
  expect(body).toMatchObject({ orderId, coordination: 'orchestration', saga: { queryable: true } });
  expect(await listed(versionedApi, orderId)).toMatchObject({ orderId, build: { ...build, behavior: 'PINNED' } });
});

it('a running saga on a versioned worker names its build too, from the description the read makes anyway', async () => {
  // A carrier that never answers: the saga waits at the shipment until it is cancelled.
  const orderId = await placeOrder(versionedApi, { shippingAddress: { ...ADDRESS, postalCode: '00000' } });
  let body = await read(versionedApi, orderId);
  for (let i = 0; body.status !== 'CREATING_SHIPMENT'; i++) {
    if (i > 200) throw new Error(`order ${orderId} never reached the carrier`);
    await sleep(100);
    body = await read(versionedApi, orderId);
  }
  expect(body).toMatchObject({ saga: { queryable: true }, build: { ...build, behavior: 'PINNED' } });
  expect(await listed(versionedApi, orderId, { status: 'CREATING_SHIPMENT' })).toMatchObject({ build: { ...build, behavior: 'PINNED' } });
  const cancelled = await fetch(`${versionedApi.base}/orders/${orderId}/cancel`, { method: 'POST', headers: versionedApi.asOwner(orderId) });
  expect(cancelled.status).toBe(202);
  // The cancel's answer is the saga's state, as before: no build in it.
  expect(await cancelled.json()).not.toHaveProperty('build');
});

it('a saga on an unversioned worker: build is null in both', async () => {
  const orderId = await placeOrder(unversionedApi);
  expect((await readCompleted(unversionedApi, orderId)).build).toBeNull();
  expect(await listed(unversionedApi, orderId)).toMatchObject({ orderId, build: null });
});

it('a choreographed order: build is null in both, no worker build runs it', async () => {
  const orderId = await placeOrder(unversionedApi, { coordination: 'choreography' });
  expect(await read(unversionedApi, orderId)).toMatchObject({ coordination: 'choreography', build: null });
  const row = await listed(unversionedApi, orderId, { status: 'COMPLETED', query: '&coordination=choreography' });
  expect(row).toMatchObject({ orderId, workflowId: null, build: null });
});
