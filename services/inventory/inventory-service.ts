import type { LineItem } from '../../domain/checkout-vocabulary';
import type { Db } from '../../lib/db';
import { isUniqueViolation } from '../../lib/db';
import type { Prisma, Reservation, ReservationLine } from '../../generated/prisma/client';
import { SERVICE_DEFAULTS } from '../defaults';
import { BusinessError, keyReused } from '../errors';

export type PricedLine = LineItem & { unitPrice: number };
export type CatalogItem = { sku: string; name: string; price: number; available: number; reserved: number };
export type ReservationView = { orderId: string; status: Reservation['status']; items: LineItem[]; expiresAt: Date | null };

type ReservationRow = Reservation & { lines: ReservationLine[] };
type Tx = Prisma.TransactionClient;

/** Lines come in SKU order everywhere, whether Prisma or hand-written SQL read them. */
const LINES_BY_SKU = { lines: { orderBy: { sku: 'asc' } } } as const;

/**
 * The inventory service: the catalog, stock levels and per-order reservations.
 * It owns the `inventory` schema.
 *
 * A reservation moves one way: HELD -> COMMITTED or HELD -> RELEASED. Releasing
 * an order that never reserved writes a RELEASED tombstone, which fences off a
 * reserve call that arrives after its saga was compensated.
 */
export class InventoryService {
  constructor(
    private readonly db: Db,
    /** Longer than any live saga holds stock; see expireReservations(). */
    readonly reservationTtlSeconds = SERVICE_DEFAULTS.reservationTtlSeconds,
  ) {}

  async catalog(): Promise<CatalogItem[]> {
    return this.db.product.findMany({
      select: { sku: true, name: true, price: true, available: true, reserved: true },
      orderBy: { sku: 'asc' },
    });
  }

  /** The SKUs in `skus` that the catalog does not know. */
  async unknownSkus(skus: string[]): Promise<string[]> {
    const known = await this.db.product.findMany({ where: { sku: { in: skus } }, select: { sku: true } });
    const knownSet = new Set(known.map((p) => p.sku));
    return skus.filter((sku) => !knownSet.has(sku));
  }

  /** Current catalog prices for the items; an unknown SKU is a business failure. */
  async quote(items: LineItem[]): Promise<PricedLine[]> {
    const products = await this.db.$queryRaw<{ sku: string; price: number }[]>`
      SELECT sku, price FROM inventory.products WHERE sku = ANY(${items.map((i) => i.sku)}::text[])`;
    const priceOf = new Map(products.map((p) => [p.sku, p.price]));
    return items.map((item) => {
      const unitPrice = priceOf.get(item.sku);
      if (unitPrice === undefined) throw new BusinessError('unknown_sku', `Unknown SKU ${item.sku}`, { sku: item.sku });
      return { ...item, unitPrice };
    });
  }

  async reserve(orderId: string, items: LineItem[], idempotencyKey: string): Promise<ReservationView> {
    const expiresAt = new Date(Date.now() + this.reservationTtlSeconds * 1000);
    const created = await this.db.$transaction(async (tx) => {
      // The reservation first: if the order (or the key) has one already, this
      // writes nothing and the call is a replay. A concurrent twin waits here
      // on the unique index until ours commits or rolls back.
      const [{ inserted }] = await tx.$queryRaw<[{ inserted: number }]>`
        WITH held AS (
          INSERT INTO inventory.reservations (order_id, idempotency_key, status, expires_at, updated_at)
          VALUES (${orderId}, ${idempotencyKey}, 'HELD', ${expiresAt}, now())
          ON CONFLICT DO NOTHING
          RETURNING order_id
        ), held_lines AS (
          INSERT INTO inventory.reservation_lines (order_id, sku, quantity)
          SELECT held.order_id, line.sku, line.quantity
          FROM held, unnest(${items.map((i) => i.sku)}::text[], ${items.map((i) => i.quantity)}::int[]) AS line(sku, quantity)
        )
        SELECT count(*)::int AS inserted FROM held`;
      if (inserted === 0) return false;
      // Locking rows in SKU order means two multi-item orders can't deadlock.
      for (const item of bySku(items)) {
        // The stock check and the decrement are one statement, so concurrent
        // orders can never oversell; the CHECK (available >= 0) backs it up.
        // Throwing rolls the reservation back with the stock.
        const updated = await tx.$executeRaw`
          UPDATE inventory.products
          SET available = available - ${item.quantity}, reserved = reserved + ${item.quantity}
          WHERE sku = ${item.sku} AND available >= ${item.quantity}`;
        if (updated === 0) throw await stockFailure(tx, item);
      }
      return true;
    });
    if (created) return { orderId, status: 'HELD', items, expiresAt };
    const existing = await this.db.reservation.findUnique({ where: { orderId }, include: LINES_BY_SKU });
    if (!existing) throw keyReused(idempotencyKey);
    return replayReserve(existing, idempotencyKey);
  }

  /** Compensation: return held stock. Safe to repeat, and safe before any reserve. */
  async release(orderId: string, idempotencyKey: string): Promise<ReservationView> {
    return this.settle(orderId, idempotencyKey, 'RELEASED');
  }

  /** The order completed: held stock becomes sold stock. */
  async commit(orderId: string, idempotencyKey: string): Promise<ReservationView> {
    return this.settle(orderId, idempotencyKey, 'COMMITTED');
  }

  /**
   * Gives back the stock of holds older than their TTL: a saga that vanished
   * (its workflow terminated by hand, say) must not keep stock forever. Live
   * sagas never get here, because the TTL is longer than the order TTL.
   * Returns the ids of the orders whose holds expired.
   */
  async expireReservations(now = new Date(), batch = 100): Promise<string[]> {
    const expired = await this.db.reservation.findMany({
      where: { status: 'HELD', expiresAt: { lt: now } },
      select: { orderId: true },
      take: batch,
    });
    const done: string[] = [];
    for (const { orderId } of expired) {
      const released = await this.db.$transaction(async (tx) => {
        // SKIP LOCKED: a saga committing or releasing this hold right now wins.
        const locked = await tx.$queryRaw<{ order_id: string }[]>`
          SELECT order_id FROM inventory.reservations
          WHERE order_id = ${orderId} AND status = 'HELD' AND expires_at < ${now}
          FOR UPDATE SKIP LOCKED`;
        if (locked.length === 0) return false;
        await moveHeldStock(tx, await tx.reservationLine.findMany({ where: { orderId } }), 'EXPIRED');
        await tx.reservation.update({ where: { orderId }, data: { status: 'EXPIRED' } });
        return true;
      });
      if (released) done.push(orderId);
    }
    return done;
  }

  async reservationFor(orderId: string): Promise<ReservationView | null> {
    const row = await this.db.reservation.findUnique({ where: { orderId }, include: LINES_BY_SKU });
    return row && toView(row);
  }

  /** Every product's stock counters, for the invariant auditor. */
  stockLevels(): Promise<{ sku: string; available: number; reserved: number; sold: number; received: number }[]> {
    return this.db.product.findMany({ select: { sku: true, available: true, reserved: true, sold: true, received: true }, orderBy: { sku: 'asc' } });
  }

  /** Every reservation, for the invariant auditor. */
  async allReservations(): Promise<ReservationView[]> {
    return (await this.db.reservation.findMany({ include: LINES_BY_SKU })).map(toView);
  }

  /** Adds the products the catalog lacks; existing stock is left alone. */
  async addMissingProducts(products: readonly { sku: string; name: string; price: number; stock: number }[]): Promise<void> {
    await this.db.product.createMany({
      data: products.map(({ sku, name, price, stock }) => ({ sku, name, price, available: stock, received: stock })),
      skipDuplicates: true,
    });
  }

  /**
   * Adds a product or sets its available stock: for tests and demos, not for
   * orders. The change is booked in `received` (a restock or a write-off), so
   * stock stays conserved: received = available + reserved + sold.
   */
  async upsertProduct(p: { sku: string; name: string; price: number; stock: number }): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO inventory.products (sku, name, price, available, received)
      VALUES (${p.sku}, ${p.name}, ${p.price}, ${p.stock}, ${p.stock})
      ON CONFLICT (sku) DO UPDATE SET
        name = EXCLUDED.name,
        price = EXCLUDED.price,
        received = products.received - products.available + EXCLUDED.available,
        available = EXCLUDED.available`;
  }

  private async settle(orderId: string, settleKey: string, to: 'RELEASED' | 'COMMITTED'): Promise<ReservationView> {
    try {
      return await this.settleOnce(orderId, settleKey, to);
    } catch (err) {
      // Two releases of a never-reserved order raced to write the tombstone.
      if (!isUniqueViolation(err)) throw err;
      return this.settleOnce(orderId, settleKey, to);
    }
  }

  private async settleOnce(orderId: string, settleKey: string, to: 'RELEASED' | 'COMMITTED'): Promise<ReservationView> {
    return this.db.$transaction(async (tx) => {
      // FOR UPDATE serializes a release racing a commit of the same order.
      const [row] = await tx.$queryRaw<ReservationRow[]>`
        SELECT r.order_id AS "orderId", r.idempotency_key AS "idempotencyKey", r.status::text AS status,
               r.settle_key AS "settleKey", r.expires_at AS "expiresAt", r.created_at AS "createdAt", r.updated_at AS "updatedAt",
               COALESCE((SELECT json_agg(json_build_object('orderId', l.order_id, 'sku', l.sku, 'quantity', l.quantity) ORDER BY l.sku)
                         FROM inventory.reservation_lines l WHERE l.order_id = r.order_id), '[]') AS lines
        FROM inventory.reservations r
        WHERE r.order_id = ${orderId}
        FOR UPDATE OF r`;
      if (!row) {
        if (to === 'COMMITTED') throw new BusinessError('reservation_not_found', `No reservation for order ${orderId}`);
        await tx.$executeRaw`
          INSERT INTO inventory.reservations (order_id, idempotency_key, settle_key, status, updated_at)
          VALUES (${orderId}, ${settleKey}, ${settleKey}, 'RELEASED', now())`;
        return { orderId, status: 'RELEASED', items: [], expiresAt: null };
      }
      if (row.status === to) return toView(row);
      // The sweeper already gave the stock back: nothing is left to release.
      if (row.status === 'EXPIRED' && to === 'RELEASED') return toView(row);
      if (row.status !== 'HELD') {
        throw new BusinessError('reservation_settled', `Reservation for order ${orderId} is already ${row.status}`);
      }
      await moveHeldStock(tx, row.lines, to);
      await tx.$executeRaw`
        UPDATE inventory.reservations SET status = ${to}::inventory."ReservationStatus", settle_key = ${settleKey}, updated_at = now()
        WHERE order_id = ${orderId}`;
      return toView({ ...row, status: to, settleKey });
    });
  }
}

/** Lines in the order every stock change locks product rows: orders that share SKUs cannot deadlock. */
const bySku = <T extends LineItem>(lines: readonly T[]): T[] => [...lines].sort((a, b) => a.sku.localeCompare(b.sku));

/** Takes an order's held stock out of `reserved`: to `sold` when it is committed, back to `available` otherwise. */
async function moveHeldStock(tx: Tx, lines: readonly LineItem[], to: 'COMMITTED' | 'RELEASED' | 'EXPIRED'): Promise<void> {
  const sold = to === 'COMMITTED';
  for (const { sku, quantity } of bySku(lines)) {
    await tx.$executeRaw`
      UPDATE inventory.products
      SET reserved = reserved - ${quantity}, available = available + ${sold ? 0 : quantity}, sold = sold + ${sold ? quantity : 0}
      WHERE sku = ${sku}`;
  }
}

function replayReserve(row: ReservationRow, idempotencyKey: string): ReservationView {
  if (row.status === 'RELEASED' || row.status === 'EXPIRED') {
    throw new BusinessError('fenced', `Order ${row.orderId} was already compensated; not reserving again`);
  }
  if (row.idempotencyKey !== idempotencyKey) {
    throw new BusinessError('idempotency_conflict', `Order ${row.orderId} already has a reservation under another key`);
  }
  return toView(row);
}

async function stockFailure(tx: Pick<Db, 'product'>, item: LineItem): Promise<BusinessError> {
  const product = await tx.product.findUnique({ where: { sku: item.sku } });
  if (!product) return new BusinessError('unknown_sku', `Unknown SKU ${item.sku}`, { sku: item.sku });
  return new BusinessError('out_of_stock', `Only ${product.available} of ${item.sku} available, ${item.quantity} requested`, {
    sku: item.sku,
    requested: item.quantity,
    available: product.available,
  });
}

function toView(row: ReservationRow): ReservationView {
  return {
    orderId: row.orderId,
    status: row.status,
    items: row.lines.map(({ sku, quantity }) => ({ sku, quantity })),
    expiresAt: row.expiresAt,
  };
}
