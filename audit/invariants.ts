import type { StoreSnapshot } from './store-snapshot';

export type Violation = { invariant: Invariant; subject: string; detail: string };

export type Invariant =
  | 'saga_stuck'
  | 'order_open_past_ttl'
  | 'completed_order_payment'
  | 'completed_order_reservation'
  | 'completed_order_shipment'
  | 'compensated_order_net_charge'
  | 'compensated_order_held_stock'
  | 'compensated_order_active_shipment'
  | 'shipped_then_stopped'
  | 'stock_not_conserved'
  | 'ledger_disagrees'
  | 'notification_count'
  | 'orphan_record';

export type AuditOptions = {
  now: Date;
  /** An open order older than this is stuck (the TTL plus time to compensate). */
  maxOpenSeconds: number;
  /**
   * Notifications travel outbox → broker → inbox, after the order closed: a
   * missing one counts only once its order closed longer ago than this. A
   * second notification for an order always counts.
   */
  notificationGraceSeconds: number;
  /** What Temporal knows of the sagas still running, by order id; without it, the sagas are not checked. */
  sagas?: ReadonlyMap<string, SagaView>;
};

/** A running saga as Temporal reports it (see saga-snapshot.ts). */
export type SagaView = {
  /** The OrderStatus search attribute. */
  status: string | null;
  /** Set when its workflow task keeps failing: it will not move without a fix or a rescue. */
  stuck: { attempt: number; cause: string; message: string; since: Date | null } | null;
};

/** An order whose compensation was refused for good: an operator must decide. Not a violation. */
export type AwaitingOperator = { orderId: string; failedStep: string | null; reason: string | null; since: Date; ageSeconds: number };

type Payment = StoreSnapshot['payments'][number];
type Reservation = StoreSnapshot['reservations'][number];
type Shipment = StoreSnapshot['shipments'][number];

/**
 * The promises the saga makes, checked against what the services stored.
 * Pure: it takes a snapshot and returns every violation it finds, so a test
 * can plant each kind of violation and see it reported.
 */
export function findViolations(stores: StoreSnapshot, opts: AuditOptions): Violation[] {
  const violations: Violation[] = [];
  const report = (invariant: Invariant, subject: string, detail: string) => violations.push({ invariant, subject, detail });
  const byOrder = <T extends { orderId: string }>(rows: T[]) => new Map(rows.map((r) => [r.orderId, r]));
  const payments = byOrder(stores.payments);
  const reservations = byOrder(stores.reservations);
  const shipments = byOrder(stores.shipments);
  const notified = new Map<string, number>();
  for (const n of stores.notifications) notified.set(n.orderId, (notified.get(n.orderId) ?? 0) + 1);

  for (const [orderId, saga] of opts.sagas ?? []) {
    if (!saga.stuck) continue;
    const { attempt, cause, message, since } = saga.stuck;
    const age = since ? `for ${Math.round((opts.now.getTime() - since.getTime()) / 1000)} s, ` : '';
    report('saga_stuck', `order ${orderId}`, `workflow task failing ${age}attempt ${attempt}, ${cause}: ${message}`);
  }

  for (const order of stores.orders) {
    const payment = payments.get(order.orderId);
    const reservation = reservations.get(order.orderId);
    const shipment = shipments.get(order.orderId);
    const subject = `order ${order.orderId}`;

    const notifications = notified.get(order.orderId) ?? 0;
    const closedSeconds = (opts.now.getTime() - order.updatedAt.getTime()) / 1000;
    const open = order.status === 'PENDING' || order.status === 'FAILED_NEEDS_MANUAL';
    if (open ? notifications > 0 : notifications > 1 || (notifications === 0 && closedSeconds > opts.notificationGraceSeconds)) {
      report('notification_count', subject, `${notifications} notification(s) for a ${order.status} order`);
    }

    // A stuck saga is reported as such above; one that waits for an operator is not forgotten.
    const saga = opts.sagas?.get(order.orderId);
    if (order.status === 'PENDING' && !saga?.stuck && saga?.status !== 'FAILED_NEEDS_MANUAL') {
      const ageSeconds = (opts.now.getTime() - order.createdAt.getTime()) / 1000;
      if (ageSeconds > opts.maxOpenSeconds) report('order_open_past_ttl', subject, `PENDING for ${Math.round(ageSeconds)} s`);
    }

    if (order.status === 'COMPLETED') {
      if (payment?.status !== 'CAPTURED' || payment.amount !== order.total || netCharge(payment) !== order.total) {
        report('completed_order_payment', subject, `expected one capture of ${order.total}, found ${describePayment(payment)}`);
      }
      if (reservation?.status !== 'COMMITTED' || !sameItems(reservation.items, order.items)) {
        report(
          'completed_order_reservation',
          subject,
          `expected committed ${itemsText(order.items)}, found ${reservation ? `${reservation.status} ${itemsText(reservation.items)}` : 'none'}`,
        );
      }
      if (shipment?.status !== 'CREATED') report('completed_order_shipment', subject, `expected a shipment, found ${shipment?.status ?? 'none'}`);
    }

    // FAILED sagas compensate too; RESOLVED_MANUALLY ones were settled by an
    // operator outside the system, so their stores are not expected to agree.
    if (order.status === 'COMPENSATED' || order.status === 'FAILED') {
      if (payment && (netCharge(payment) !== 0 || payment.status === 'AUTHORIZED' || payment.status === 'CAPTURED')) {
        report('compensated_order_net_charge', subject, `found ${describePayment(payment)}`);
      }
      if (reservation && (reservation.status === 'HELD' || reservation.status === 'COMMITTED')) {
        report('compensated_order_held_stock', subject, `reservation is ${reservation.status}`);
      }
      if (shipment?.status === 'CREATED') report('compensated_order_active_shipment', subject, 'shipment is still CREATED');
      // Once the shipment exists the saga only goes forward: a stop (TTL or cancel) may end an order
      // only before that. A tracking number is the carrier's word that the shipment was made.
      const { step, reason } = order.failure ?? {};
      if (reason && STOPS.has(reason) && (shipment?.trackingNumber || (step && AFTER_SHIPMENT.has(step)))) {
        report('shipped_then_stopped', subject, `stopped (${reason}) at ${step}, after shipment ${shipment?.trackingNumber ?? '(none recorded)'} was created`);
      }
    }
  }

  checkStock(stores, report);
  for (const payment of stores.payments) checkLedger(payment, report);

  const orderIds = new Set(stores.orders.map((o) => o.orderId));
  for (const [store, rows] of [
    ['payment', stores.payments],
    ['reservation', stores.reservations],
    ['shipment', stores.shipments],
    ['notification', stores.notifications],
  ] as const) {
    for (const row of rows) {
      if (!orderIds.has(row.orderId) && !isFence(row)) report('orphan_record', `${store} ${row.orderId}`, 'no such order');
    }
  }
  return violations;
}

/** The reasons a saga is stopped from outside its steps: the order's TTL, and the customer's cancel. */
const STOPS = new Set(['timed_out', 'cancelled_by_customer']);
/** The steps a saga reaches only once its shipment exists. */
const AFTER_SHIPMENT = new Set(['capturePayment', 'completeOrder']);

/**
 * A record that holds nothing: the tombstone an undo leaves for a step that
 * never happened, which fences off a late call. A saga stopped before it
 * created its order leaves these (its undos run whatever it did; see
 * docs/saga-design.md), so without an order they are not orphans.
 */
function isFence(row: object): boolean {
  if ('items' in row) return (row as Reservation).status === 'RELEASED' && (row as Reservation).items.length === 0;
  if ('ledger' in row) return (row as Payment).status === 'VOIDED' && (row as Payment).amount === 0 && (row as Payment).ledger.length === 0;
  if ('trackingNumber' in row) return (row as Shipment).status === 'CANCELLED' && (row as Shipment).trackingNumber === null;
  return false;
}

/**
 * Orders waiting for an operator's decision, oldest first. Sagas that entered
 * FAILED_NEEDS_MANUAL before the order record learned to say so (patch
 * order-awaits-operator) left it PENDING: their saga's status tells.
 */
export function findAwaitingOperator(stores: StoreSnapshot, opts: Pick<AuditOptions, 'now' | 'sagas'>): AwaitingOperator[] {
  return stores.orders
    .filter((o) => o.status === 'FAILED_NEEDS_MANUAL' || (o.status === 'PENDING' && opts.sagas?.get(o.orderId)?.status === 'FAILED_NEEDS_MANUAL'))
    .map((o) => ({
      orderId: o.orderId,
      failedStep: o.failure?.step ?? null,
      reason: o.failure?.reason ?? null,
      since: o.updatedAt,
      ageSeconds: Math.round((opts.now.getTime() - o.updatedAt.getTime()) / 1000),
    }))
    .sort((a, b) => b.ageSeconds - a.ageSeconds);
}

function checkStock(stores: StoreSnapshot, report: (i: Invariant, s: string, d: string) => void): void {
  const held = new Map<string, number>();
  const sold = new Map<string, number>();
  for (const r of stores.reservations) {
    const into = r.status === 'HELD' ? held : r.status === 'COMMITTED' ? sold : null;
    for (const line of r.items) into?.set(line.sku, (into.get(line.sku) ?? 0) + line.quantity);
  }
  for (const p of stores.products) {
    const subject = `sku ${p.sku}`;
    if (p.available + p.reserved + p.sold !== p.received) {
      report('stock_not_conserved', subject, `received ${p.received} != available ${p.available} + reserved ${p.reserved} + sold ${p.sold}`);
    }
    if (p.reserved !== (held.get(p.sku) ?? 0))
      report('stock_not_conserved', subject, `reserved ${p.reserved}, but held reservations add up to ${held.get(p.sku) ?? 0}`);
    if (p.sold !== (sold.get(p.sku) ?? 0))
      report('stock_not_conserved', subject, `sold ${p.sold}, but committed reservations add up to ${sold.get(p.sku) ?? 0}`);
  }
}

/** The status the ledger implies must be the status the payment claims. */
function checkLedger(payment: Payment, report: (i: Invariant, s: string, d: string) => void): void {
  const subject = `payment ${payment.orderId}`;
  let implied: Payment['status'] | null = null;
  for (const entry of payment.ledger) {
    if (entry.amount !== payment.amount) report('ledger_disagrees', subject, `${entry.kind} of ${entry.amount} on a payment of ${payment.amount}`);
    implied =
      entry.kind === 'AUTHORIZE'
        ? 'AUTHORIZED'
        : entry.kind === 'CAPTURE'
          ? 'CAPTURED'
          : entry.kind === 'VOID'
            ? 'VOIDED'
            : entry.kind === 'REFUND'
              ? 'REFUNDED'
              : implied;
  }
  // No movement: a decline, or the tombstone of a saga compensated before it authorized.
  const consistent = implied === null ? payment.status === 'DECLINED' || (payment.status === 'VOIDED' && payment.amount === 0) : implied === payment.status;
  if (!consistent)
    report(
      'ledger_disagrees',
      subject,
      `status ${payment.status}, ledger says ${implied ?? 'no movement'} (${payment.ledger.map((e) => e.kind).join(', ') || 'empty'})`,
    );
}

function netCharge(payment: Payment): number {
  return payment.ledger.reduce((sum, e) => sum + (e.kind === 'CAPTURE' ? e.amount : e.kind === 'REFUND' ? -e.amount : 0), 0);
}

function describePayment(payment: Payment | undefined): string {
  if (!payment) return 'no payment';
  return `${payment.status} ${payment.amount}, ledger ${payment.ledger.map((e) => `${e.kind} ${e.amount}`).join(', ') || 'empty'}`;
}

type Items = { sku: string; quantity: number }[];
const itemsText = (items: Items) =>
  items
    .map((i) => `${i.quantity}×${i.sku}`)
    .sort()
    .join(', ') || 'nothing';
const sameItems = (a: Items, b: Items) => itemsText(a) === itemsText(b);
