import { format } from 'node:util';
import { capturingLogger } from '../observability/capture';
import { cardNumbersIn, historyTexts } from '../support/card-numbers';
import { ADDRESS } from '../support/scenarios';
import { startTestApi, type TestApi } from '../support/test-api';
import { startTestStack, type TestStack } from '../support/test-stack';
import { workerLogs } from '../support/worker-logs';

// Payment data is tokens only. No recorded history, no payload inside one and
// no log line may hold anything that looks like a card number: a 13–19 digit
// run that passes the Luhn check. Here, a live run; the scanner itself and the
// recorded histories are unit tests (test/unit/security/no-card-numbers.test.ts).

describe('a live run through the API', () => {
  let stack: TestStack;
  let api: TestApi;
  let base: string;
  // The API's own request log, at its most talkative: every line it would write.
  const apiLog = capturingLogger('trace');

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

    const logs = [...apiLog.lines.map((l) => JSON.stringify(l)), ...workerLogs().map((e) => `${e.level} ${e.message} ${format(e.meta ?? {})}`)];
    // Both logs hold this run: the API one line per request (the refused card numbers' included), the worker its sagas.
    expect(apiLog.lines.filter((l) => (l.req as { url?: string } | undefined)?.url === '/orders')).toHaveLength(8);
    expect(workerLogs().some((e) => orderIds.some((id) => format(e.meta ?? {}).includes(id)))).toBe(true);
    expect(logs.flatMap(cardNumbersIn)).toEqual([]);

    for (const orderId of orderIds) {
      const history = await stack.client.workflow.getHandle(`order-${orderId}`).fetchHistory();
      expect(historyTexts(history).flatMap(cardNumbersIn)).toEqual([]);
    }
  });
});
