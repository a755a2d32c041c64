import { Client as Pg } from 'pg';
import { ChoreographyClient } from '../../api/choreography-client';
import { DEFAULT_DEADLINES } from '../../workflows/checkout-types';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// A customer's cancel once the shipment exists, for a choreographed order. The
// capture is held between the two by a lock on the payment's row, taken while
// the slow carrier is still retrying: the payment service waits for it, as for
// a concurrent writer, and the cancel reaches the order in between.
let stack: TestStack;
let api: TestApi;
beforeAll(async () => {
  stack = await startTestStack({ worker: false, choreography: {} });
  api = startTestApi(stack, { choreographies: new ChoreographyClient(stack.services, DEFAULT_DEADLINES) });
});
afterAll(async () => {
  api?.close();
  await stack?.stop();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('POST /orders/:id/cancel after the shipment is 409: the order has shipped, and completes', async () => {
  const placed = await fetch(`${api.base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: 'cust_chor',
      items: [{ sku: 'KB-001', quantity: 1 }],
      payment: { token: 'tok_visa' },
      // The carrier's sandbox fails its first calls for this postal code: seconds in which to take the lock.
      shippingAddress: { ...ADDRESS, postalCode: '00001' },
      coordination: 'choreography',
    }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };
  await until(
    () => stack.services.payments.paymentFor(orderId),
    (p) => p?.status === 'AUTHORIZED',
    'the authorization',
  );

  const lock = new Pg({ connectionString: stack.dbUrl });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM payments.payments WHERE order_id = $1 FOR UPDATE', [orderId]);
    await until(
      () => stack.services.shipping.shipmentFor(orderId),
      (s) => s?.status === 'CREATED',
      'the shipment',
    );

    const cancel = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
    expect(cancel.status).toBe(409);
    expect(await cancel.json()).toMatchObject({ error: `Order ${orderId} has shipped and can no longer be cancelled` });
    expect(await stack.services.payments.paymentFor(orderId)).toMatchObject({ status: 'AUTHORIZED' });
  } finally {
    await lock.query('ROLLBACK');
    await lock.end();
  }

  const read = async () => (await (await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json()) as { status: string };
  expect(await until(read, (o) => o.status === 'COMPLETED', 'the order to complete')).toMatchObject({ status: 'COMPLETED' });
  expect((await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind)).toEqual(['AUTHORIZE', 'CAPTURE']);
});

itLeavesTheStoresConsistent(() => stack.services);
