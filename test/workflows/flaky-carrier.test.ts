import { runScenario } from '../support/run-scenario';
import { startTestStack, type TestStack } from '../support/test-stack';
import { itLeavesTheStoresConsistent } from '../support/audit-stores';

// README's "Flaky carrier" row: the shipping service fails half of its calls
// transiently (CARRIER_FAILURE_RATE), and the saga retries them with backoff.
// Each order completes, or runs out its shipping SLA and is compensated.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ carrierFailureRate: 0.5 });
});
afterAll(() => stack?.stop());

describe('a flaky carrier', () => {
  it('is retried with backoff: each order ships once or is compensated at its SLA', async () => {
    // Twelve orders: the chance that none of them meets a failure is 0.5^12.
    const runs = await Promise.all(Array.from({ length: 12 }, () => runScenario(stack, 'happy-path')));

    for (const { orderId, state } of runs) {
      const ledger = (await stack.services.payments.ledgerFor(orderId)).map((e) => e.kind);
      if (state.status === 'COMPLETED') {
        expect(ledger).toEqual(['AUTHORIZE', 'CAPTURE']);
        expect(await stack.db.shipment.count({ where: { orderId } })).toBe(1);
      } else {
        expect(state).toMatchObject({ status: 'COMPENSATED', failure: { step: 'createShipment', reason: 'shipping_timeout' } });
        expect(ledger).toEqual(['AUTHORIZE', 'VOID']);
      }
    }
    const shipmentAttempts = runs.map(({ state }) => state.steps.find((s) => s.name === 'createShipment')!.attempts);
    expect(shipmentAttempts.some((a) => a > 1)).toBe(true);
  }, 60_000);
});

itLeavesTheStoresConsistent(() => stack.services);
