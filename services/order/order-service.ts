import type { Db } from '../../lib/db';
import { isUniqueViolation } from '../../lib/db';
import type { Order, OrderLine } from '../../generated/prisma/client';
import { BusinessError, keyReused } from '../errors';
import type { InventoryService, LineItem } from '../inventory/inventory-service';
import { recordOrderClosed } from './outbox';

export type NewOrder = { orderId: string; customerId: string; items: LineItem[]; currency?: string };
export type OrderOutcome =
  | { status: 'COMPLETED' }
  | { status: 'COMPENSATED' | 'FAILED' | 'RESOLVED_MANUALLY'; failedStep: string; reason: string };
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
    const existing = await this.find(order.orderId);
    if (existing) return replayCreate(existing, idempotencyKey);

    const lines = await this.inventory.quote(order.items);
    const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    try {
      return toView(
        await this.db.order.create({
          data: {
            id: order.orderId,
            customerId: order.customerId,
            currency: order.currency ?? 'USD',
            total,
            idempotencyKey,
            lines: { create: lines },
          },
          include: { lines: true },
        }),
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const winner = await this.find(order.orderId);
      if (!winner) throw keyReused(idempotencyKey);
      return replayCreate(winner, idempotencyKey);
    }
  }

  /**
   * Records how the order ended, and the fact that it did (for the outbox) in
   * the same transaction. The first outcome wins: closing again with the same
   * outcome is a no-op, so the call can be retried freely.
   */
  async close(orderId: string, outcome: OrderOutcome, idempotencyKey: string): Promise<OrderView | null> {
    const failure =
      outcome.status === 'COMPLETED' ? {} : { failedStep: outcome.failedStep, failureReason: outcome.reason };
    await this.db.$transaction(async (tx) => {
      // Only a PENDING order can be closed; the conditional update makes that atomic,
      // and only the call that closed it writes the fact, so a retry writes nothing.
      const { count } = await tx.order.updateMany({
        where: { id: orderId, status: 'PENDING' },
        data: { status: outcome.status, settleKey: idempotencyKey, ...failure },
      });
      if (count === 0) return;
      const closed = await tx.order.findUniqueOrThrow({ where: { id: orderId } });
      await recordOrderClosed(tx, { ...closed, status: outcome.status });
    });
    const order = await this.find(orderId);
    if (order && order.status !== outcome.status) {
      throw new BusinessError('order_closed', `Order ${orderId} is already ${order.status}`);
    }
    return order && toView(order);
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
    const rows = await this.db.order.findMany({ include: { lines: true }, orderBy: { createdAt: 'asc' } });
    return rows.map((row) => ({ ...toView(row), createdAt: row.createdAt, updatedAt: row.updatedAt }));
  }

  private find(orderId: string): Promise<OrderRow | null> {
    return this.db.order.findUnique({ where: { id: orderId }, include: { lines: true } });
  }
}

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
