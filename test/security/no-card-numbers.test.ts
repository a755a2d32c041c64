import { writeTemporalEntry } from '../../lib/logger';
import { cardNumbersIn, historyTexts } from '../support/card-numbers';
import { capturingLogger } from '../support/capturing-logger';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { workerLogs } from '../support/worker-logs';

// Payment data is tokens only. No recorded history, no payload inside one and
// no log line may hold anything that looks like a card number: a 13–19 digit
// run that passes the Luhn check. Here, a live run; the scanner itself and the
// recorded histories are unit tests (test/unit/security/no-card-numbers.test.ts).
// The lines scanned are the ones the API and the worker write, at the level
// they write them outside tests (INFO), as pino formats them.

describe('a live run through the API', () => {
  let stack: TestStack;
  let api: TestApi;
  let base: string;
  const apiLog = capturingLogger();

  beforeAll(async () => {
    stack = await startTestStack();
    api = startTestApi(stack, { operatorToken: 'pii-test-token', logger: apiLog.logger });
    base = api.base;
  });
  afterAll(async () => {
    api?.close();
    await stack?.stop();
  });

  const order = (token: string, country = 'GB') => ({
    customerId: 'cust_pii',
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token },
    shippingAddress: { ...ADDRESS, country },
  });
  const post = (body: unknown) => fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function settled(orderId: string): Promise<void> {
    for (let i = 0; i < 150; i++) {
      const { status } = await (await fetch(`${base}/orders/${orderId}`, { headers: api.asOwner(orderId) })).json();
      if (['COMPLETED', 'COMPENSATED', 'FAILED', 'FAILED_NEEDS_MANUAL'].includes(status)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`order ${orderId} did not settle`);
  }

  it('card numbers sent as tokens are refused, and nothing the run logged or recorded holds one', async () => {
    for (const token of ['4242424242424242', '4242 4242 4242 4242', 'tok_4242424242424242', 'tok_4242_4242_4242_4242']) {
      const res = await post(order(token));
      expect(res.status).toBe(400);
      expect(cardNumbersIn(await res.text())).toEqual([]);
    }

    // Runs that log: a success, a decline, and a compensation that fails and is retried.
    const orderIds: string[] = [];
    for (const body of [order('tok_visa'), order('tok_declined'), order('tok_flaky'), order('tok_visa', 'XX')]) {
      const res = await post(body);
      expect(res.status).toBe(202);
      orderIds.push((await res.json()).orderId);
    }
    await Promise.all(orderIds.map(settled));

    // The API's request lines: the refused card numbers and the orders placed are all there.
    const posts = apiLog.lines
      .filter((l) => (l.req as { method: string }).method === 'POST')
      .map((l) => [(l.res as { statusCode: number }).statusCode, l.orderId ?? null]);
    expect(posts).toEqual([...Array(4).fill([400, null]), ...orderIds.map((orderId) => [202, orderId])]);
    // The worker's lines (workflows and activities, through the Runtime's logger), written as the worker writes them.
    const workerLog = capturingLogger();
    for (const entry of workerLogs()) writeTemporalEntry(workerLog.logger, entry);
    for (const orderId of orderIds) expect(workerLog.lines.filter((l) => l.orderId === orderId).length).toBeGreaterThan(0);
    expect([...apiLog.raw, ...workerLog.raw].flatMap(cardNumbersIn)).toEqual([]);

    for (const orderId of orderIds) {
      const history = await stack.client.workflow.getHandle(`order-${orderId}`).fetchHistory();
      expect(historyTexts(history).flatMap(cardNumbersIn)).toEqual([]);
    }
  });
});
