import { projectCheckout } from '../../../api/order-projection';
import { UNDOABLE_STEPS } from '../../../domain/checkout-vocabulary';
import type { Reaction } from '../../../services/choreography/reaction';
import { nextStep, parseSagaEvent, type SagaEvent, type SagaEventType, undoneStep } from '../../../services/choreography/saga-events';
import type { InventoryService } from '../../../services/inventory/inventory-service';
import { inventoryReactions } from '../../../services/inventory/inventory-reactions';
import type { OrderView } from '../../../services/order/order-service';
import type { PaymentService } from '../../../services/payment/payment-service';
import { paymentReactions } from '../../../services/payment/payment-reactions';
import type { ShippingService } from '../../../services/shipping/shipping-service';
import { shippingReactions } from '../../../services/shipping/shipping-reactions';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const order = {
  customerId: 'cust_1',
  items: [{ sku: 'KB-001', quantity: 1 }],
  paymentToken: 'tok_visa',
  shippingAddress: { name: 'Ada', line1: '1 St', city: 'London', postalCode: 'N1', country: 'GB' },
  total: 12900,
  currency: 'USD',
  deadlines: { orderTtlSeconds: 900, shippingSlaSeconds: 300, paymentHoldSeconds: 600 },
};
let clock = Date.parse('2026-01-01T12:00:00Z');
const event = (type: string, extra: Record<string, unknown> = {}) =>
  ({ version: 1, eventId: `o1:${type}`, orderId: 'o1', occurredAt: new Date(clock++).toISOString(), order, attempt: 1, type, ...extra }) as SagaEvent;
const view = (status: OrderView['status'], failure: OrderView['failure'] = null): OrderView => ({
  orderId: 'o1',
  customerId: 'cust_1',
  status,
  total: 12900,
  currency: 'USD',
  items: [{ sku: 'KB-001', quantity: 1, unitPrice: 12900 }],
  failure,
});

describe('the choreographed saga events', () => {
  it("undo the steps in reverse order, the workflow's compensation stack's, one undo reacting to the one before", async () => {
    // Services whose undos all succeed: what is checked is which event each reaction publishes.
    const done = async () => undefined;
    const reactions: Reaction[] = [
      ...shippingReactions({ cancelShipment: done } as unknown as ShippingService),
      ...paymentReactions({ reverse: done } as unknown as PaymentService),
      ...inventoryReactions({ release: done } as unknown as InventoryService),
    ];
    const failure = { step: 'capturePayment', reason: 'authorization_expired', message: 'expired' };
    const undone: string[] = [];
    let cause = event('StepFailed', { failure });
    for (let type: SagaEventType | undefined = 'StepFailed'; type; ) {
      const next = reactions.find((r) => r.on === type);
      const published = next ? (await next.handle(cause, 1)).publish?.[0] : undefined;
      type = published?.type;
      if (!published || !type) break;
      undone.push(undoneStep(type) ?? `not an undo: ${type}`);
      cause = event(type, published);
    }
    expect(undone).toEqual([...UNDOABLE_STEPS].reverse());
  });

  it('parse a valid event; an unknown version, bad JSON or a bad shape are for the dead-letter stream, each with its reason', () => {
    expect(parseSagaEvent(encode(event('OrderPlaced')))).toMatchObject({ ok: true, event: { type: 'OrderPlaced' } });
    expect(parseSagaEvent(encode({ ...event('OrderPlaced'), version: 2 }))).toMatchObject({ ok: false, reason: 'unknown_version' });
    expect(parseSagaEvent(new TextEncoder().encode('{nope'))).toMatchObject({ ok: false, reason: 'not_json' });
    expect(parseSagaEvent(encode({ ...event('FraudChecked') }))).toMatchObject({ ok: false, reason: 'invalid', detail: expect.stringContaining('score') });
  });

  it('know which step comes next', () => {
    expect(nextStep(new Set(['OrderPlaced']))).toBe('checkFraud');
    expect(nextStep(new Set(['OrderPlaced', 'FraudChecked', 'InventoryReserved', 'PaymentAuthorized']))).toBe('createShipment');
  });
});

describe('the projection of a choreographed order', () => {
  it('shows the running step while the saga goes forward', () => {
    const state = projectCheckout(view('PENDING'), [event('OrderPlaced'), event('FraudChecked', { score: 10 })]);
    expect(state.status).toBe('RESERVING_INVENTORY');
    expect(state.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'running', 'pending', 'pending', 'pending', 'pending']);
  });

  it('shows a failed step, its undos as they run, and the ending the order service recorded', () => {
    const failure = { step: 'authorizePayment', reason: 'card_declined', message: 'Card declined' };
    const timeline = [event('OrderPlaced'), event('FraudChecked', { score: 1 }), event('InventoryReserved'), event('StepFailed', { failure })];
    const compensating = projectCheckout(view('PENDING'), timeline);
    expect(compensating.status).toBe('COMPENSATING');
    expect(compensating.steps.find((s) => s.name === 'reserveInventory')!.status).toBe('compensating');
    expect(compensating.failure).toEqual(failure);

    const chain = { failure, round: 0, refused: [] };
    const done = projectCheckout(view('COMPENSATED', { step: 'authorizePayment', reason: 'card_declined' }), [
      ...timeline,
      event('ShipmentCancelled', chain),
      event('PaymentReversed', chain),
      event('InventoryReleased', chain),
    ]);
    expect(done.status).toBe('COMPENSATED');
    expect(done.steps.map((s) => s.status)).toEqual(['compensated', 'completed', 'compensated', 'failed', 'pending', 'pending', 'pending']);
    // As the workflow's stack: the failed authorization's undo too, since its outcome may be unknown.
    expect(done.compensations).toEqual([
      { step: 'reserveInventory', undo: 'releaseInventory', status: 'undone' },
      { step: 'authorizePayment', undo: 'reversePayment', status: 'undone' },
    ]);
    expect(done.timeline.map((e) => e.type).at(-1)).toBe('InventoryReleased');
  });

  it('lists the undos a provider refused while the order waits for an operator', () => {
    const failure = { step: 'createShipment', reason: 'address_rejected', message: 'no' };
    const refused = [{ step: 'authorizePayment', reason: 'reversal_rejected', message: 'refused' }];
    const state = projectCheckout(view('FAILED_NEEDS_MANUAL', { step: 'createShipment', reason: 'address_rejected' }), [
      event('OrderPlaced'),
      event('PaymentAuthorized', { expiresAt: null }),
      event('StepFailed', { failure }),
      event('PaymentReversed', { failure, round: 0, refused }),
      event('InventoryReleased', { failure, round: 0, refused }),
    ]);
    expect(state.status).toBe('FAILED_NEEDS_MANUAL');
    expect(state.failedCompensations).toEqual(refused);
    expect(state.steps.find((s) => s.name === 'authorizePayment')!.status).toBe('compensation_failed');
  });

  it("keeps an operator's decisions and notes, in order, as the workflow's resolutions", () => {
    const failure = { step: 'createShipment', reason: 'address_rejected', message: 'no' };
    const retry = event('OperatorResolved', { action: 'retry', note: 'provider says try again' });
    const resolved = event('OperatorResolved', { action: 'mark-resolved', note: 'refunded by hand' });
    const state = projectCheckout(view('RESOLVED_MANUALLY', { step: 'createShipment', reason: 'address_rejected' }), [
      event('OrderPlaced'),
      event('StepFailed', { failure }),
      retry,
      resolved,
    ]);
    expect(state.resolutions).toEqual([
      { action: 'retry', note: 'provider says try again', at: retry.occurredAt },
      { action: 'mark-resolved', note: 'refunded by hand', at: resolved.occurredAt },
    ]);
    expect(state.timeline.at(-1)).toMatchObject({ type: 'OperatorResolved', detail: 'mark-resolved: refunded by hand' });
    expect(projectCheckout(view('PENDING'), [event('OrderPlaced')])).not.toHaveProperty('resolutions');
  });
});
