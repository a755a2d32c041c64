import { findAwaitingOperator, findViolations, type AuditOptions, type Invariant, type SagaView } from '../../../audit/invariants';
import type { StoreSnapshot } from '../../../audit/store-snapshot';

// The auditor's invariants on hand-built snapshots of the stores: one
// consistent world, then one change at a time, each of which must be named
// (and nothing else). test/audit/invariant-auditor.test.ts plants violations
// in the rows of real sagas instead.

type Order = StoreSnapshot['orders'][number];
type Payment = StoreSnapshot['payments'][number];
type Reservation = StoreSnapshot['reservations'][number];
type Shipment = StoreSnapshot['shipments'][number];
type LedgerKind = Payment['ledger'][number]['kind'];

const NOW = new Date('2026-11-30T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const OPTIONS: AuditOptions = { now: NOW, maxOpenSeconds: 900, notificationGraceSeconds: 60 };
const SKU = 'KB-001';
const PRICE = 2500;

function order(orderId: string, status: Order['status'], quantity: number, extra: Partial<Order> = {}): Order {
  return {
    orderId,
    customerId: 'cust_1',
    status,
    total: quantity * PRICE,
    currency: 'USD',
    items: [{ sku: SKU, quantity, unitPrice: PRICE }],
    failure: null,
    createdAt: ago(3600),
    updatedAt: ago(3500),
    ...extra,
  };
}
function payment(orderId: string, status: Payment['status'], amount: number, kinds: LedgerKind[]): Payment {
  const ledger = kinds.map((kind) => ({ kind, amount }));
  return { orderId, paymentId: `pay_${orderId}`, status, amount, currency: 'USD', declineCode: null, expiresAt: null, ledger };
}
const reservation = (orderId: string, status: Reservation['status'], quantity: number): Reservation => ({
  orderId,
  status,
  items: [{ sku: SKU, quantity }],
  expiresAt: null,
});
const shipment = (orderId: string, status: Shipment['status']): Shipment => ({ orderId, status, trackingNumber: `TRK-${orderId}`, carrier: 'FAKE-EXPRESS' });

/**
 * Four orders whose stores agree: one completed, one declined, one undone
 * after its authorization (shipping rejected), and one in flight.
 */
function consistentStores(): StoreSnapshot {
  return {
    orders: [
      order('completed', 'COMPLETED', 2),
      order('declined', 'COMPENSATED', 1, { failure: { step: 'authorizePayment', reason: 'card_declined' } }),
      order('undone', 'COMPENSATED', 1, { failure: { step: 'createShipment', reason: 'address_rejected' } }),
      order('in-flight', 'PENDING', 1, { createdAt: ago(60), updatedAt: ago(60) }),
    ],
    payments: [
      payment('completed', 'CAPTURED', 2 * PRICE, ['AUTHORIZE', 'CAPTURE']),
      payment('declined', 'DECLINED', PRICE, []),
      payment('undone', 'VOIDED', PRICE, ['AUTHORIZE', 'VOID']),
      payment('in-flight', 'AUTHORIZED', PRICE, ['AUTHORIZE', 'RENEW']),
    ],
    reservations: [
      reservation('completed', 'COMMITTED', 2),
      reservation('declined', 'RELEASED', 1),
      reservation('undone', 'RELEASED', 1),
      reservation('in-flight', 'HELD', 1),
    ],
    shipments: [shipment('completed', 'CREATED'), shipment('undone', 'CANCELLED')],
    notifications: ['completed', 'declined', 'undone'].map((orderId) => ({ orderId, eventId: `evt_${orderId}` })),
    products: [{ sku: SKU, received: 10, available: 7, reserved: 1, sold: 2 }],
  };
}

/** The stores after `change`, audited: `invariant subject` for each violation, sorted. */
function violationsAfter(change: (s: StoreSnapshot) => void, options: Partial<AuditOptions> = {}): string[] {
  const stores = consistentStores();
  change(stores);
  return findViolations(stores, { ...OPTIONS, ...options })
    .map((v) => `${v.invariant} ${v.subject}`)
    .sort();
}
const orderOf = (s: StoreSnapshot, id: string) => s.orders.find((o) => o.orderId === id)!;
const paymentOf = (s: StoreSnapshot, id: string) => s.payments.find((p) => p.orderId === id)!;
const reservationOf = (s: StoreSnapshot, id: string) => s.reservations.find((r) => r.orderId === id)!;
const shipmentOf = (s: StoreSnapshot, id: string) => s.shipments.find((x) => x.orderId === id)!;
const product = (s: StoreSnapshot) => s.products[0];
const sagas = (entries: Record<string, SagaView>) => new Map(Object.entries(entries));

describe('findViolations', () => {
  it('finds nothing in stores that agree', () => {
    expect(violationsAfter(() => undefined)).toEqual([]);
  });

  const changes: [string, (s: StoreSnapshot) => void, Invariant, string][] = [
    ['a pending order older than the TTL allows', (s) => (orderOf(s, 'in-flight').createdAt = ago(901)), 'order_open_past_ttl', 'order in-flight'],
    [
      'a completed order whose capture was refunded',
      (s) => {
        Object.assign(paymentOf(s, 'completed'), {
          status: 'REFUNDED',
          ledger: ['AUTHORIZE', 'CAPTURE', 'REFUND'].map((kind) => ({ kind, amount: 2 * PRICE })),
        });
      },
      'completed_order_payment',
      'order completed',
    ],
    [
      'a completed order whose committed stock is not what was bought',
      (s) => {
        reservationOf(s, 'completed').items = [{ sku: SKU, quantity: 3 }];
        Object.assign(product(s), { available: 6, sold: 3 });
      },
      'completed_order_reservation',
      'order completed',
    ],
    ['a completed order without its shipment', (s) => (shipmentOf(s, 'completed').status = 'CANCELLED'), 'completed_order_shipment', 'order completed'],
    [
      'a compensated order whose authorization was never voided',
      (s) => {
        Object.assign(paymentOf(s, 'undone'), { status: 'AUTHORIZED', ledger: [{ kind: 'AUTHORIZE', amount: PRICE }] });
      },
      'compensated_order_net_charge',
      'order undone',
    ],
    [
      'a compensated order that still holds stock',
      (s) => {
        reservationOf(s, 'declined').status = 'HELD';
        Object.assign(product(s), { available: 6, reserved: 2 });
      },
      'compensated_order_held_stock',
      'order declined',
    ],
    [
      'a compensated order whose shipment is still active',
      (s) => (shipmentOf(s, 'undone').status = 'CREATED'),
      'compensated_order_active_shipment',
      'order undone',
    ],
    [
      'a shipped order that its TTL compensated (it stopped at the capture)',
      (s) => (orderOf(s, 'undone').failure = { step: 'capturePayment', reason: 'timed_out' }),
      'shipped_then_stopped',
      'order undone',
    ],
    [
      "an order the customer's cancel compensated after the carrier made its shipment",
      (s) => (orderOf(s, 'undone').failure = { step: 'createShipment', reason: 'cancelled_by_customer' }),
      'shipped_then_stopped',
      'order undone',
    ],
    ['stock that appeared from nowhere', (s) => (product(s).available += 1), 'stock_not_conserved', `sku ${SKU}`],
    ['a payment whose status its ledger does not explain', (s) => (paymentOf(s, 'declined').status = 'VOIDED'), 'ledger_disagrees', 'payment declined'],
    [
      'a second notification for one order',
      (s) => s.notifications.push({ orderId: 'completed', eventId: 'evt_again' }),
      'notification_count',
      'order completed',
    ],
    [
      'a notification for an order still open',
      (s) => s.notifications.push({ orderId: 'in-flight', eventId: 'evt_early' }),
      'notification_count',
      'order in-flight',
    ],
    ['records of an order that does not exist', (s) => s.shipments.push(shipment('ghost', 'CREATED')), 'orphan_record', 'shipment ghost'],
  ];

  it.each(changes)('names %s, and nothing else', (_what, change, invariant, subject) => {
    expect(violationsAfter(change)).toEqual([`${invariant} ${subject}`]);
  });

  it('lets a stop compensate an order whose shipment was never made (its undo left a fence)', () => {
    const stoppedBeforeShipping = (s: StoreSnapshot) => {
      orderOf(s, 'undone').failure = { step: 'createShipment', reason: 'timed_out' };
      shipmentOf(s, 'undone').trackingNumber = null;
    };
    expect(violationsAfter(stoppedBeforeShipping)).toEqual([]);
  });

  it('holds a FAILED order to the same rollback as a COMPENSATED one, and leaves a manually resolved one to its operator', () => {
    const stillCharged = (s: StoreSnapshot) => {
      Object.assign(paymentOf(s, 'undone'), { status: 'CAPTURED', ledger: ['AUTHORIZE', 'CAPTURE'].map((kind) => ({ kind, amount: PRICE })) });
    };
    expect(violationsAfter((s) => (stillCharged(s), (orderOf(s, 'undone').status = 'FAILED')))).toEqual(['compensated_order_net_charge order undone']);
    expect(violationsAfter((s) => (stillCharged(s), (orderOf(s, 'undone').status = 'RESOLVED_MANUALLY')))).toEqual([]);
  });

  it('reads net charge from the ledger: a capture refunded in full is no charge', () => {
    expect(
      violationsAfter((s) => {
        Object.assign(paymentOf(s, 'undone'), { status: 'REFUNDED', ledger: ['AUTHORIZE', 'CAPTURE', 'REFUND'].map((kind) => ({ kind, amount: PRICE })) });
      }),
    ).toEqual([]);
  });

  it('says what does not add up in the stock', () => {
    const stores = consistentStores();
    Object.assign(product(stores), { received: 11, reserved: 0, sold: 3 });
    expect(findViolations(stores, OPTIONS).map((v) => v.detail)).toEqual([
      'received 11 != available 7 + reserved 0 + sold 3',
      'reserved 0, but held reservations add up to 1',
      'sold 3, but committed reservations add up to 2',
    ]);
  });

  it('checks every ledger entry against the payment, and the tombstone of a saga undone before it paid', () => {
    expect(violationsAfter((s) => (paymentOf(s, 'completed').ledger[1].amount = PRICE))).toEqual([
      'completed_order_payment order completed',
      'ledger_disagrees payment completed',
    ]);
    // Voided before any authorization: no movement, and no money.
    expect(violationsAfter((s) => Object.assign(paymentOf(s, 'declined'), { status: 'VOIDED', amount: 0 }))).toEqual([]);
  });

  it('gives a closed order its grace before a missing notification counts', () => {
    const unnotified = (s: StoreSnapshot) => (s.notifications = s.notifications.filter((n) => n.orderId !== 'declined'));
    expect(violationsAfter(unnotified, { notificationGraceSeconds: 3501 })).toEqual([]);
    expect(violationsAfter(unnotified, { notificationGraceSeconds: 3499 })).toEqual(['notification_count order declined']);
  });

  it('names every kind of orphan by its store', () => {
    expect(
      violationsAfter((s) => {
        s.payments.push(payment('ghost', 'DECLINED', PRICE, []));
        s.reservations.push(reservation('ghost', 'RELEASED', 1));
        s.notifications.push({ orderId: 'ghost', eventId: 'evt_ghost' });
      }),
    ).toEqual(['orphan_record notification ghost', 'orphan_record payment ghost', 'orphan_record reservation ghost']);
  });

  it('takes the fences of a saga stopped before it created its order for what they are, not orphans', () => {
    expect(
      violationsAfter((s) => {
        s.reservations.push({ ...reservation('never-created', 'RELEASED', 0), items: [] });
        s.payments.push({ ...payment('never-created', 'VOIDED', 0, []), currency: 'XXX' });
        s.shipments.push({ ...shipment('never-created', 'CANCELLED'), trackingNumber: null });
      }),
    ).toEqual([]);
  });

  describe("with Temporal's view of the running sagas", () => {
    const stuck = { attempt: 3, cause: 'NonDeterminismError', message: 'patch marker encountered', since: ago(120) };

    it('reports a saga whose workflow task keeps failing, with how long and why', () => {
      const found = findViolations(consistentStores(), { ...OPTIONS, sagas: sagas({ 'in-flight': { status: 'CHARGING_PAYMENT', stuck } }) });
      expect(found).toEqual([
        {
          invariant: 'saga_stuck',
          subject: 'order in-flight',
          detail: 'workflow task failing for 120 s, attempt 3, NonDeterminismError: patch marker encountered',
        },
      ]);
    });

    it('leaves the age out when Temporal does not say since when', () => {
      const found = findViolations(consistentStores(), { ...OPTIONS, sagas: sagas({ 'in-flight': { status: null, stuck: { ...stuck, since: null } } }) });
      expect(found.map((v) => v.detail)).toEqual(['workflow task failing attempt 3, NonDeterminismError: patch marker encountered']);
    });

    it('reports a stuck saga past its TTL once, as stuck', () => {
      const overdue = (s: StoreSnapshot) => (orderOf(s, 'in-flight').createdAt = ago(901));
      expect(violationsAfter(overdue, { sagas: sagas({ 'in-flight': { status: 'CHARGING_PAYMENT', stuck } }) })).toEqual(['saga_stuck order in-flight']);
    });

    it('does not call an order forgotten while its saga waits for an operator', () => {
      const overdue = (s: StoreSnapshot) => (orderOf(s, 'in-flight').createdAt = ago(901));
      expect(violationsAfter(overdue, { sagas: sagas({ 'in-flight': { status: 'FAILED_NEEDS_MANUAL', stuck: null } }) })).toEqual([]);
      expect(violationsAfter(overdue, { sagas: sagas({ 'in-flight': { status: 'CHARGING_PAYMENT', stuck: null } }) })).toEqual([
        'order_open_past_ttl order in-flight',
      ]);
    });
  });
});

describe('findAwaitingOperator', () => {
  it('lists the orders that wait for an operator, oldest first, with what failed and for how long', () => {
    const stores = consistentStores();
    const refused = { step: 'createShipment', reason: 'address_rejected' };
    stores.orders.push(
      order('waits-briefly', 'FAILED_NEEDS_MANUAL', 1, { failure: refused, updatedAt: ago(30) }),
      order('waits-long', 'FAILED_NEEDS_MANUAL', 1, { failure: refused, updatedAt: ago(7200) }),
    );
    expect(findAwaitingOperator(stores, { now: NOW })).toEqual([
      { orderId: 'waits-long', failedStep: 'createShipment', reason: 'address_rejected', since: ago(7200), ageSeconds: 7200 },
      { orderId: 'waits-briefly', failedStep: 'createShipment', reason: 'address_rejected', since: ago(30), ageSeconds: 30 },
    ]);
  });

  it("finds a PENDING order by its saga's status: sagas that waited before the order record could say so", () => {
    const stores = consistentStores();
    expect(findAwaitingOperator(stores, { now: NOW })).toEqual([]);
    expect(findAwaitingOperator(stores, { now: NOW, sagas: sagas({ 'in-flight': { status: 'FAILED_NEEDS_MANUAL', stuck: null } }) })).toEqual([
      { orderId: 'in-flight', failedStep: null, reason: null, since: ago(60), ageSeconds: 60 },
    ]);
    expect(findAwaitingOperator(stores, { now: NOW, sagas: sagas({ 'in-flight': { status: 'CHARGING_PAYMENT', stuck: null } }) })).toEqual([]);
  });

  it('does not count an awaiting order as a violation, however old', () => {
    const stores = consistentStores();
    stores.orders.push(order('waits-long', 'FAILED_NEEDS_MANUAL', 1, { createdAt: ago(86_400), updatedAt: ago(86_400) }));
    expect(findViolations(stores, OPTIONS)).toEqual([]);
  });
});
