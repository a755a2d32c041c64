import { audit } from '../../audit/audit';
import type { Invariant } from '../../audit/invariants';
import { checkout, resolveUpdate } from '../../workflows';
import { runScenario } from '../support/run-scenario';
import { SCENARIOS, SCENARIO_STOCK, untilStatus, type ScenarioName } from '../support/scenarios';
import { uniqueId } from '../support/service-db';
import { startTestStack, type TestStack } from '../support/test-stack';

// The auditor against stores written by real sagas. Each test plants one kind
// of violation by tampering with a table directly, as a bug or a hand edit
// would, and expects the auditor to name it.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

// This stack runs no outbox relay, so no order gets its notification: the
// grace keeps that out of the way, except in the test that is about it.
const run = (notificationGraceSeconds = 3600) => audit(stack.services, { maxOpenSeconds: 3600, notificationGraceSeconds, recheckAfterMs: 10 });
const violationsOf = async (subject: string, notificationGraceSeconds?: number) =>
  (await run(notificationGraceSeconds)).violations.filter((v) => v.subject.includes(subject)).map((v) => v.invariant);
const sql = (query: string, ...params: unknown[]) => stack.db.$executeRawUnsafe(query, ...params);

async function saga(name: ScenarioName) {
  const { orderId, sku } = await runScenario(stack, name);
  expect(await violationsOf(orderId)).toEqual([]);
  return { orderId, sku };
}

describe('npm run audit', () => {
  it('finds nothing wrong after real sagas of every kind of ending', async () => {
    for (const name of ['happy-path', 'card-declined', 'shipping-rejected', 'out-of-stock', 'fraud-suspected'] as const) await saga(name);
    const { violations, counts } = await run();
    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ COMPLETED: 1, COMPENSATED: 4 });
  });

  const plants: [string, ScenarioName, (o: { orderId: string; sku: string }) => Promise<unknown>, Invariant[]][] = [
    [
      'an order left open past its TTL',
      'happy-path',
      ({ orderId }) => sql(`UPDATE orders.orders SET status = 'PENDING', created_at = now() - interval '2 hours' WHERE id = $1`, orderId),
      ['order_open_past_ttl'],
    ],
    [
      'a completed order whose payment was never captured',
      'happy-path',
      ({ orderId }) => sql(`UPDATE payments.payments SET status = 'AUTHORIZED' WHERE order_id = $1`, orderId),
      ['completed_order_payment', 'ledger_disagrees'],
    ],
    [
      'a completed order whose reservation does not match its items',
      'happy-path',
      ({ orderId }) => sql(`UPDATE inventory.reservation_lines SET quantity = quantity + 1 WHERE order_id = $1`, orderId),
      ['completed_order_reservation', 'stock_not_conserved'],
    ],
    [
      'a completed order without a shipment',
      'happy-path',
      ({ orderId }) => sql(`UPDATE shipping.shipments SET status = 'CANCELLED' WHERE order_id = $1`, orderId),
      ['completed_order_shipment'],
    ],
    [
      'a compensated order that still holds the money',
      'shipping-rejected',
      ({ orderId }) => sql(`UPDATE payments.payments SET status = 'AUTHORIZED' WHERE order_id = $1`, orderId),
      ['compensated_order_net_charge', 'ledger_disagrees'],
    ],
    [
      'a compensated order that still holds stock',
      'card-declined',
      ({ orderId }) => sql(`UPDATE inventory.reservations SET status = 'HELD' WHERE order_id = $1`, orderId),
      ['compensated_order_held_stock', 'stock_not_conserved'],
    ],
    [
      'a compensated order whose shipment is still active',
      'shipping-rejected',
      ({ orderId }) => sql(`UPDATE shipping.shipments SET status = 'CREATED' WHERE order_id = $1`, orderId),
      ['compensated_order_active_shipment'],
    ],
    [
      'stock that appeared from nowhere',
      'happy-path',
      ({ sku }) => sql(`UPDATE inventory.products SET available = available + 1 WHERE sku = $1`, sku),
      ['stock_not_conserved'],
    ],
    [
      'a payment whose status the ledger does not explain',
      'card-declined',
      ({ orderId }) => sql(`UPDATE payments.payments SET status = 'REFUNDED' WHERE order_id = $1`, orderId),
      ['ledger_disagrees'],
    ],
    [
      'a second notification for one order',
      'happy-path',
      async ({ orderId }) => {
        for (const eventId of [`${orderId}-a`, `${orderId}-b`]) {
          await sql(`INSERT INTO notifications.inbox (event_id, type) VALUES ($1, 'OrderCompleted')`, eventId);
          await sql(
            `INSERT INTO notifications.notifications (event_id, order_id, recipient, subject, body) VALUES ($1, $2, 'a@example.com', 's', 'b')`,
            eventId,
            orderId,
          );
        }
      },
      ['notification_count'],
    ],
    ['records of an order that does not exist', 'happy-path', ({ orderId }) => sql(`DELETE FROM orders.orders WHERE id = $1`, orderId), ['orphan_record']],
  ];

  it.each(plants)('catches %s', async (_what, scenario, plant, expected) => {
    const planted = await saga(scenario);
    await plant(planted);
    const found = new Set([...(await violationsOf(planted.orderId)), ...(await violationsOf(planted.sku))]);
    expect([...found].sort()).toEqual([...expected].sort());
  });

  it('catches a terminal order whose notification never came, once the grace has passed', async () => {
    const { orderId } = await saga('card-declined');
    expect(await violationsOf(orderId, 3600)).toEqual([]);
    expect(await violationsOf(orderId, 0)).toEqual(['notification_count']);
  });

  it('tells an order that waits for an operator apart from a forgotten one, and gives its age', async () => {
    const sku = uniqueId('SKU');
    await stack.services.inventory.upsertProduct({ sku, name: 'Refund refused', price: 2500, stock: SCENARIO_STOCK });
    const orderId = uniqueId('ord');
    const handle = await stack.client.workflow.start(checkout, {
      workflowId: `order-${orderId}`,
      taskQueue: stack.taskQueue,
      args: [SCENARIOS['refund-fails-manual-resolution'].input(orderId, sku)],
    });
    await untilStatus(handle, 'FAILED_NEEDS_MANUAL');
    // The order record says so itself.
    expect(await stack.services.orders.orderFor(orderId)).toMatchObject({
      status: 'FAILED_NEEDS_MANUAL',
      failure: { step: 'createShipment', reason: 'address_rejected' },
    });
    // Open for longer than any TTL allows, and still not a violation: it waits for a person.
    const sagas = { client: stack.client, taskQueue: stack.taskQueue };
    const opts = { maxOpenSeconds: 0, notificationGraceSeconds: 3600, recheckAfterMs: 10 };
    let result = await audit(stack.services, opts, sagas);
    expect(result.violations.filter((v) => v.subject.includes(orderId))).toEqual([]);
    expect(result.awaitingOperator).toEqual([
      expect.objectContaining({ orderId, failedStep: 'createShipment', reason: 'address_rejected', ageSeconds: expect.any(Number) }),
    ]);

    // A saga that waited before the order record learned to say so left it PENDING: its saga's status tells.
    await sql(`UPDATE orders.orders SET status = 'PENDING', created_at = now() - interval '2 hours' WHERE id = $1`, orderId);
    result = await audit(stack.services, opts, sagas);
    expect(result.violations.filter((v) => v.subject.includes(orderId))).toEqual([]);
    expect(result.awaitingOperator.map((o) => o.orderId)).toEqual([orderId]);
    // Without Temporal's view, the auditor can only call it forgotten.
    expect((await audit(stack.services, opts)).violations.filter((v) => v.subject.includes(orderId)).map((v) => v.invariant)).toEqual(['order_open_past_ttl']);

    await sql(`UPDATE orders.orders SET status = 'FAILED_NEEDS_MANUAL' WHERE id = $1`, orderId);
    await handle.executeUpdate(resolveUpdate, { args: [{ action: 'mark-resolved', note: 'refunded by bank transfer' }] });
    expect(await stack.services.orders.orderFor(orderId)).toMatchObject({ status: 'RESOLVED_MANUALLY' });
  });
});
