import type { Db } from '../../lib/db';
import { Prisma, type Order, type OrderLine } from '../../generated/prisma/client';
import { BusinessError, keyReused } from '../errors';
import type { LineItem, StepName, StopReason } from '../../domain/checkout-vocabulary';
import type { InventoryService, PricedLine } from '../inventory/inventory-service';
import { eventId, nextStep, type NewSagaEvent, type OrderFacts, type SagaEvent } from '../choreography/saga-events';
import { completeEvent, writeToOutbox } from '../choreography/saga-outbox';
import { orderClosedFact } from './outbox';

export type NewOrder = { orderId: string; customerId: string; items: LineItem[]; currency?: string };
/** An order whose saga is choreographed: the events carry what the other services need (saga-events.ts). */
export type PlacedOrder = NewOrder & Pick<OrderFacts, 'paymentToken' | 'shippingAddress' | 'deadlines'>;
export type OrderOutcome = { status: 'COMPLETED' } | { status: 'COMPENSATED' | 'FAILED' | 'RESOLVED_MANUALLY'; failedStep: string; reason: string };
export type OrderView = {
  orderId: string;
  customerId: string;
  status: Order['status'];
  total: number;
  currency: string;
  items: (LineItem & { unitPrice: number })[];
  failure: { step: string; reason: string } | null;
};

type OrderRow = Order & { lines: OrderLine[] };

/**
 * The order record: what was bought, at which price, and how it ended.
 * It owns the `orders` schema; prices come from the inventory service's catalog.
 */
export class OrderService {
  constructor(
    private readonly db: Db,
    private readonly inventory: InventoryService,
  ) {}

  async create(order: NewOrder, idempotencyKey: string): Promise<OrderView> {
    const priced = await this.price(order);
    if (await insertOrder(this.db, priced, idempotencyKey, 'orchestration')) return priced.view;
    return this.replayCreate(order.orderId, idempotencyKey);
  }

  /**
   * Places an order whose saga is choreographed: the order, the OrderPlaced
   * event that starts the chain, and the order's TTL (an event due at its
   * deadline) in one transaction: all of them, or, for a retry, nothing.
   */
  async place(order: PlacedOrder, idempotencyKey: string): Promise<{ view: OrderView; placed: boolean }> {
    const priced = await this.price(order);
    const { view } = priced;
    const facts: OrderFacts = {
      customerId: view.customerId,
      items: order.items,
      paymentToken: order.paymentToken,
      shippingAddress: order.shippingAddress,
      total: view.total,
      currency: view.currency,
      deadlines: order.deadlines,
    };
    const now = new Date();
    const ttlAt = new Date(now.getTime() + order.deadlines.orderTtlSeconds * 1000);
    const placed = await this.db.$transaction(async (tx) => {
      if (!(await insertOrder(tx, priced, idempotencyKey, 'choreography'))) return false;
      await writeToOutbox(tx, 'orders', [
        completeEvent(view.orderId, facts, { type: 'OrderPlaced', eventId: eventId(view.orderId, 'OrderPlaced'), attempt: 1 }, now),
      ]);
      await writeToOutbox(
        tx,
        'orders',
        [completeEvent(view.orderId, facts, { type: 'OrderTtlExpired', eventId: eventId(view.orderId, 'OrderTtlExpired'), attempt: 1 }, ttlAt)],
        ttlAt,
      );
      return true;
    });
    return placed ? { view, placed } : { view: await this.replayCreate(order.orderId, idempotencyKey), placed };
  }

  /**
   * Records how the order ended, and the fact that it did (for the outbox) in
   * the same statement. The first outcome wins: closing again with the same
   * outcome is a no-op, so the call can be retried freely. A choreographed
   * order passes the event that closes it (`cause`): it enters the order's
   * timeline in the same statement, so no read sees the order closed without it.
   */
  async close(orderId: string, outcome: OrderOutcome, idempotencyKey: string, cause?: SagaEvent): Promise<OrderView | null> {
    const failure =
      outcome.status === 'COMPLETED' ? { failedStep: null, failureReason: null } : { failedStep: outcome.failedStep, failureReason: outcome.reason };
    const order = await this.find(orderId);
    const open = order && isOpen(order.status);
    if (open) {
      // The fact is built from the order as read: what it reports (customer,
      // total, outcome) cannot change between the read and the update.
      const fact = orderClosedFact({ ...order, ...failure, status: outcome.status });
      // Only an open order can be closed; the conditional update makes that
      // atomic, and the fact is written only if this statement closed it.
      const written = await this.db.$executeRaw`
        WITH closed AS (
          UPDATE orders.orders
          SET status = ${outcome.status}::orders."OrderStatus", settle_key = ${idempotencyKey},
              failed_step = ${failure.failedStep}, failure_reason = ${failure.failureReason}, updated_at = now()
          WHERE id = ${orderId} AND status IN ('PENDING', 'FAILED_NEEDS_MANUAL')
          RETURNING id
        ), ${timelineInsert(cause)}
        INSERT INTO orders.outbox (id, order_id, type, payload)
        SELECT ${fact.eventId}, closed.id, ${fact.type}, ${JSON.stringify(fact)}::jsonb FROM closed`;
      if (written === 1) return toView({ ...order, ...failure, status: outcome.status });
    }
    // A retry, or another outcome got there first.
    const closed = open ? await this.find(orderId) : order;
    if (closed && closed.status !== outcome.status) {
      throw new BusinessError('order_closed', `Order ${orderId} is already ${closed.status}`);
    }
    return closed && toView(closed);
  }

  /**
   * A compensation was refused for good, and the saga waits for an operator:
   * the record says so, with the failure and since when (updated_at), so that
   * the auditor tells it apart from an order nobody is looking after. The order
   * stays open: no fact is published until the saga closes it. Idempotent by
   * its condition: only a PENDING order moves, so no key is needed.
   */
  async holdForOperator(orderId: string, failure: { failedStep: string; reason: string }, cause?: SagaEvent): Promise<OrderView | null> {
    await this.db.$executeRaw`
      WITH closed AS (
        UPDATE orders.orders
        SET status = 'FAILED_NEEDS_MANUAL', failed_step = ${failure.failedStep}, failure_reason = ${failure.reason}, updated_at = now()
        WHERE id = ${orderId} AND status = 'PENDING'
        RETURNING id
      ), ${timelineInsert(cause)}
      SELECT count(*) FROM closed`;
    return this.orderFor(orderId);
  }

  async orderFor(orderId: string): Promise<OrderView | null> {
    const order = await this.find(orderId);
    return order && toView(order);
  }

  /** Facts in the outbox that the relay has not published yet: the backlog a metric reports. */
  unpublishedFacts(): Promise<number> {
    return this.db.outboxEvent.count({ where: { publishedAt: null } });
  }

  /**
   * A page of choreographed orders, newest first, by the record's status and
   * customer; `after` is the last row of the page before. No workflow lists
   * them, so the order service does (GET /orders?coordination=choreography).
   */
  async listChoreographed(
    filter: { status?: string; customerId?: string },
    { limit, after }: { limit: number; after?: { createdAt: Date; id: string } },
  ): Promise<{ orderId: string; status: Order['status']; customerId: string; createdAt: Date; updatedAt: Date }[]> {
    return this.db.$queryRaw`
      SELECT id AS "orderId", status::text AS status, customer_id AS "customerId", created_at AS "createdAt", updated_at AS "updatedAt"
      FROM orders.orders
      WHERE coordination = 'choreography'
        AND (${filter.status ?? null}::text IS NULL OR status::text = ${filter.status ?? null})
        AND (${filter.customerId ?? null}::text IS NULL OR customer_id = ${filter.customerId ?? null})
        AND (${after?.createdAt ?? null}::timestamp IS NULL OR (created_at, id) < (${after?.createdAt ?? null}::timestamp, ${after?.id ?? null}))
      ORDER BY created_at DESC, id DESC
      LIMIT ${limit}`;
  }

  /** Choreographed orders by the status of their record. */
  async countChoreographed(): Promise<Record<string, number>> {
    const rows = await this.db.$queryRaw<{ status: string; count: number }[]>`
      SELECT status::text AS status, count(*)::int AS count FROM orders.orders WHERE coordination = 'choreography' GROUP BY status`;
    return Object.fromEntries(rows.map((r) => [r.status, r.count]));
  }

  /** Every order, for the invariant auditor (npm run audit). */
  async allOrders(): Promise<(OrderView & { createdAt: Date; updatedAt: Date })[]> {
    const rows = await this.db.order.findMany({ include: { lines: { orderBy: { sku: 'asc' } } }, orderBy: { createdAt: 'asc' } });
    return rows.map((row) => ({ ...toView(row), createdAt: row.createdAt, updatedAt: row.updatedAt }));
  }

  /** How the order's saga is coordinated, or null when there is no such order (yet). */
  async coordinationOf(orderId: string): Promise<Coordination | null> {
    const [row] = await this.db.$queryRaw<{ coordination: Coordination }[]>`SELECT coordination::text AS coordination FROM orders.orders WHERE id = ${orderId}`;
    return row?.coordination ?? null;
  }

  /** Every event of a choreographed order the order service has received, oldest first: its timeline. */
  async timeline(orderId: string): Promise<SagaEvent[]> {
    const rows = await this.db.$queryRaw<{ payload: SagaEvent }[]>`
      SELECT payload FROM orders.saga_events WHERE order_id = ${orderId} ORDER BY occurred_at, received_at`;
    return rows.map((r) => r.payload);
  }

  /**
   * The step a choreographed order is at, as its timeline shows it; null once
   * it is closed, compensating or shipped, when stopping it no longer applies.
   */
  async currentStep(orderId: string): Promise<StepName | null> {
    const order = await this.find(orderId);
    if (!order || order.status !== 'PENDING') return null;
    const types = new Set((await this.timeline(orderId)).map((e) => e.type));
    if (types.has('ShipmentCreated') || types.has('StepFailed') || types.has('ShipmentCancelled')) return null;
    return nextStep(types);
  }

  /**
   * Asks a choreographed order's saga to stop (the customer cancelled, or the
   * sweeper found it stalled). The shipping service decides: before a shipment
   * exists it stops, after it refuses (shipping-reactions.ts). Returns the step
   * the stop was asked at, or null when it no longer applies.
   */
  async requestStop(orderId: string, reason: StopReason): Promise<StepName | null> {
    const step = await this.currentStep(orderId);
    if (!step) return null;
    await this.publish(orderId, { type: 'StopRequested', eventId: eventId(orderId, 'StopRequested', reason), attempt: 1, reason, step });
    return step;
  }

  /** An operator's retry of the undos a provider refused, for an order in FAILED_NEEDS_MANUAL. */
  async retryUndos(orderId: string): Promise<boolean> {
    const order = await this.find(orderId);
    if (order?.status !== 'FAILED_NEEDS_MANUAL' || !order.failedStep || !order.failureReason) return false;
    const timeline = await this.timeline(orderId);
    const round = timeline.filter((e) => e.type === 'UndoRetryRequested').length + 1;
    const failure = { step: order.failedStep as StepName, reason: order.failureReason, message: 'An operator retried the refused undos' };
    await this.publish(orderId, {
      type: 'UndoRetryRequested',
      eventId: eventId(orderId, 'UndoRetryRequested', round),
      attempt: 1,
      failure,
      round,
      refused: [],
    });
    return true;
  }

  /**
   * Records an operator's decision and note in a choreographed order's
   * timeline before it is carried out, as the workflow keeps its resolutions.
   * No service reacts to it, so it goes to the timeline only, not to the stream.
   */
  async recordResolution(orderId: string, resolution: { action: 'retry' | 'mark-resolved'; note: string }): Promise<void> {
    const round = (await this.timeline(orderId)).filter((e) => e.type === 'OperatorResolved').length + 1;
    const event = await this.complete(orderId, { type: 'OperatorResolved', eventId: eventId(orderId, 'OperatorResolved', round), attempt: 1, ...resolution });
    await this.db.$executeRaw`
      INSERT INTO orders.saga_events (event_id, order_id, type, payload, occurred_at)
      VALUES (${event.eventId}, ${orderId}, ${event.type}, ${JSON.stringify(event)}::jsonb, ${new Date(event.occurredAt)})
      ON CONFLICT (event_id) DO NOTHING`;
  }

  /** Writes an event of the order service's own to its outbox. */
  private async publish(orderId: string, event: NewSagaEvent): Promise<void> {
    await writeToOutbox(this.db, 'orders', [await this.complete(orderId, event)]);
  }

  /** The event with its envelope, and the facts OrderPlaced carried. */
  private async complete(orderId: string, event: NewSagaEvent): Promise<SagaEvent> {
    const [placed] = await this.db.$queryRaw<{ payload: SagaEvent }[]>`SELECT payload FROM orders.saga_outbox WHERE id = ${eventId(orderId, 'OrderPlaced')}`;
    if (!placed) throw new BusinessError('not_choreographed', `Order ${orderId} has no choreographed saga`);
    return completeEvent(orderId, placed.payload.order, event);
  }

  /** Prices the order from the catalog. */
  private async price(order: NewOrder): Promise<PricedOrder> {
    const lines = await this.inventory.quote(order.items);
    const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    const currency = order.currency ?? 'USD';
    const items = [...lines].sort((a, b) => a.sku.localeCompare(b.sku)); // as find() reads them back
    return { lines, view: { orderId: order.orderId, customerId: order.customerId, status: 'PENDING', total, currency, items, failure: null } };
  }

  private async replayCreate(orderId: string, idempotencyKey: string): Promise<OrderView> {
    const existing = await this.find(orderId);
    if (!existing) throw keyReused(idempotencyKey);
    return replayCreate(existing, idempotencyKey);
  }

  /** The order with its lines, in one round trip. */
  private async find(orderId: string): Promise<OrderRow | null> {
    const rows = await this.db.$queryRaw<OrderRow[]>`
      SELECT o.id, o.customer_id AS "customerId", o.status::text AS status, o.total, o.currency,
             o.failed_step AS "failedStep", o.failure_reason AS "failureReason",
             o.idempotency_key AS "idempotencyKey", o.settle_key AS "settleKey",
             o.created_at AS "createdAt", o.updated_at AS "updatedAt",
             COALESCE((SELECT json_agg(json_build_object('orderId', l.order_id, 'sku', l.sku, 'quantity', l.quantity, 'unitPrice', l.unit_price) ORDER BY l.sku)
                       FROM orders.order_lines l WHERE l.order_id = o.id), '[]') AS lines
      FROM orders.orders o
      WHERE o.id = ${orderId}`;
    return rows[0] ?? null;
  }
}

type PricedOrder = { lines: PricedLine[]; view: OrderView };
export type Coordination = 'orchestration' | 'choreography';

/**
 * One statement writes the order and its lines, or, when the order or the key
 * exists already (a retry, or a concurrent twin), nothing at all. Returns
 * whether it wrote them.
 */
async function insertOrder(db: Pick<Db, '$queryRaw'>, { lines, view }: PricedOrder, idempotencyKey: string, coordination: Coordination): Promise<boolean> {
  const [{ inserted }] = await db.$queryRaw<[{ inserted: number }]>`
    WITH new_order AS (
      INSERT INTO orders.orders (id, customer_id, total, currency, idempotency_key, coordination, updated_at)
      VALUES (${view.orderId}, ${view.customerId}, ${view.total}, ${view.currency}, ${idempotencyKey}, ${coordination}::orders."Coordination", now())
      ON CONFLICT DO NOTHING
      RETURNING id
    ), new_lines AS (
      INSERT INTO orders.order_lines (order_id, sku, quantity, unit_price)
      SELECT new_order.id, line.sku, line.quantity, line.unit_price
      FROM new_order, unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.unitPrice)}::int[])
        AS line(sku, quantity, unit_price)
    )
    SELECT count(*)::int AS inserted FROM new_order`;
  return inserted === 1;
}

/** Not yet closed: a saga still owns it. */
const isOpen = (status: Order['status']) => status === 'PENDING' || status === 'FAILED_NEEDS_MANUAL';

function replayCreate(order: OrderRow, idempotencyKey: string): OrderView {
  if (order.idempotencyKey !== idempotencyKey) {
    throw new BusinessError('idempotency_conflict', `Order ${order.id} already exists under another key`);
  }
  return toView(order);
}

function toView(o: OrderRow): OrderView {
  return {
    orderId: o.id,
    customerId: o.customerId,
    status: o.status,
    total: o.total,
    currency: o.currency,
    items: o.lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
    failure: o.failedStep && o.failureReason ? { step: o.failedStep, reason: o.failureReason } : null,
  };
}

/**
 * A CTE for close() and holdForOperator(): adds the event that moved the order
 * to its timeline when the statement moved it (the `closed` CTE returned a row),
 * as the reactor would have just after. Its later insert is then a no-op.
 */
function timelineInsert(cause: SagaEvent | undefined): Prisma.Sql {
  if (!cause) return Prisma.sql`timeline AS (SELECT 1)`;
  return Prisma.sql`timeline AS (
    INSERT INTO orders.saga_events (event_id, order_id, type, payload, occurred_at)
    SELECT ${cause.eventId}, closed.id, ${cause.type}, ${JSON.stringify(cause)}::jsonb, ${new Date(cause.occurredAt)} FROM closed
    ON CONFLICT DO NOTHING
  )`;
}
