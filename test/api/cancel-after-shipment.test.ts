import { itLeavesTheStoresConsistent } from '../support/audit-stores';
import { HeldWorkflowTasks } from '../support/held-workflow-tasks';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';

// A customer's cancel once the shipment exists, through the API: the capture is
// held at its start, so the cancel reaches the saga between the two steps.
let stack: TestStack;
let api: TestApi;
let tasks: HeldWorkflowTasks;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  api = startTestApi(stack);
  tasks = await new HeldWorkflowTasks(stack).start();
  await tasks.resumeWorkflowTasks();
});
afterAll(async () => {
  api?.close();
  await tasks?.stop();
  await stack?.stop();
});

it('POST /orders/:id/cancel after the shipment is 409: the order has shipped, and completes', async () => {
  const capture = tasks.hold('capturePayment');
  const placed = await fetch(`${api.base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId: 'cust_api', items: [{ sku: 'KB-001', quantity: 1 }], payment: { token: 'tok_visa' }, shippingAddress: ADDRESS }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };
  await capture.reached;

  const cancel = await fetch(`${api.base}/orders/${orderId}/cancel`, { method: 'POST', headers: api.asOwner(orderId) });
  expect(cancel.status).toBe(409);
  expect(await cancel.json()).toMatchObject({ error: `Order ${orderId} has shipped and can no longer be cancelled` });

  capture.release();
  let order: { status: string } | undefined;
  for (let i = 0; i < 100 && order?.status !== 'COMPLETED'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    order = (await (await fetch(`${api.base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json()) as { status: string };
  }
  expect(order).toMatchObject({ status: 'COMPLETED' });
  expect((await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind)).toEqual(['AUTHORIZE', 'CAPTURE']);
});

itLeavesTheStoresConsistent(() => stack.services);
