import type { Db } from '../../lib/db';
import type { Order, OrderLine } from '../../generated/prisma/client';
import { BusinessError, keyReused } from '../errors';
import type { InventoryService, LineItem } from '../inventory/inventory-service';
import { orderClosedFact } from './outbox';

export type NewOrder = { orderId: string; customerId: string; items: LineItem[]; currency?: string };
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
    const lines = await this.inventory.quote(order.items);
    const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    const currency = order.currency ?? 'USD';
    // One statement writes the order and its lines, or, when the order or the
    // key exists already (a retry, or a concurrent twin), nothing at all.
    const [{ inserted }] = await this.db.$queryRaw<[{ inserted: number }]>`
      WITH new_order AS (
        INSERT INTO orders.orders (id, customer_id, total, currency, idempotency_key, updated_at)
        VALUES (${order.orderId}, ${order.customerId}, ${total}, ${currency}, ${idempotencyKey}, now())
        ON CONFLICT DO NOTHING
        RETURNING id
      ), new_lines AS (
        INSERT INTO orders.order_lines (order_id, sku, quantity, unit_price)
        SELECT new_order.id, line.sku, line.quantity, line.unit_price
        FROM new_order, unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.unitPrice)}::int[])
          AS line(sku, quantity, unit_price)
      )
      SELECT count(*)::int AS inserted FROM new_order`;
    if (inserted === 1) {
      const items = [...lines].sort((a, b) => a.sku.localeCompare(b.sku)); // as find() reads them back
      return { orderId: order.orderId, customerId: order.customerId, status: 'PENDING', total, currency, items, failure: null };
    }
    const existing = await this.find(order.orderId);
    if (!existing) throw keyReused(idempotencyKey);
    return replayCreate(existing, idempotencyKey);
  }

  /**
   * Records how the order ended, and the fact that it did (for the outbox) in
   * the same statement. The first outcome wins: closing again with the same
   * outcome is a no-op, so the call can be retried freely.
   */
  async close(orderId: string, outcome: OrderOutcome, idempotencyKey: string): Promise<OrderView | null> {
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
        )
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
  async holdForOperator(orderId: string, failure: { failedStep: string; reason: string }): Promise<OrderView | null> {
    await this.db.$executeRaw`
      UPDATE orders.orders
      SET status = 'FAILED_NEEDS_MANUAL', failed_step = ${failure.failedStep}, failure_reason = ${failure.reason}, updated_at = now()
      WHERE id = ${orderId} AND status = 'PENDING'`;
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

  /** Every order, for the invariant auditor (npm run audit). */
  async allOrders(): Promise<(OrderView & { createdAt: Date; updatedAt: Date })[]> {
    const rows = await this.db.order.findMany({ include: { lines: { orderBy: { sku: 'asc' } } }, orderBy: { createdAt: 'asc' } });
    return rows.map((row) => ({ ...toView(row), createdAt: row.createdAt, updatedAt: row.updatedAt }));
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
