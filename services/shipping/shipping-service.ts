import { randomBytes } from 'node:crypto';
import type { Address } from '../../domain/checkout-vocabulary';
import type { Db } from '../../lib/db';
import { Prisma, type Shipment } from '../../generated/prisma/client';
import { BusinessError, TransientError, keyReused } from '../errors';

export type ShipmentView = Pick<Shipment, 'orderId' | 'status' | 'trackingNumber' | 'carrier'>;

/** The carrier refuses to ship here, as a real one refuses an embargoed country. */
export const REJECTED_COUNTRY = 'XX';
/** The carrier's sandbox never answers for this postal code: every call times out. */
export const UNREACHABLE_POSTAL_CODE = '00000';
/** The carrier's sandbox is slow for this postal code: it times out on the first calls per key. */
export const SLOW_POSTAL_CODE = '00001';
export const SLOW_FAILURES = 3;
const CARRIER = 'FAKE-EXPRESS';
/** The columns of a shipment row, named as the Prisma model names them. */
export const SHIPMENT_COLUMNS = Prisma.sql`order_id AS "orderId", idempotency_key AS "idempotencyKey", status::text AS status,
  tracking_number AS "trackingNumber", carrier, country, cancel_key AS "cancelKey", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * A fake carrier: books shipments, returns tracking numbers, and has bad days
 * (`failureRate` of calls fail transiently). It owns the `shipping` schema.
 */
export class ShippingService {
  constructor(
    private readonly db: Db,
    private readonly failureRate = 0,
    private readonly random: () => number = Math.random,
  ) {}

  async createShipment(orderId: string, address: Address, idempotencyKey: string): Promise<ShipmentView> {
    const existing = await this.shipmentOf(orderId);
    if (existing) return replayCreate(existing, idempotencyKey);

    if (address.country.toUpperCase() === REJECTED_COUNTRY) {
      throw new BusinessError('address_rejected', `Carrier does not ship to country ${address.country}`, {
        country: address.country,
      });
    }
    await this.simulateNetwork(address.postalCode, idempotencyKey);

    // A concurrent twin (or a cancellation's fence) may have written first: then this writes nothing.
    const [created] = await this.db.$queryRaw<Shipment[]>`
      INSERT INTO shipping.shipments (order_id, idempotency_key, status, tracking_number, carrier, country, updated_at)
      VALUES (${orderId}, ${idempotencyKey}, 'CREATED', ${`TRK${randomBytes(6).toString('hex').toUpperCase()}`}, ${CARRIER}, ${address.country}, now())
      ON CONFLICT DO NOTHING
      RETURNING ${SHIPMENT_COLUMNS}`;
    const shipment = created ?? (await this.shipmentOf(orderId));
    if (!shipment) throw keyReused(idempotencyKey);
    return replayCreate(shipment, idempotencyKey);
  }

  /** Compensation. Safe to repeat; before any shipment it leaves a CANCELLED fence. */
  async cancelShipment(orderId: string, idempotencyKey: string): Promise<ShipmentView> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM shipping.shipments WHERE order_id = ${orderId} FOR UPDATE`;
      const shipment = await tx.shipment.findUnique({ where: { orderId } });
      if (!shipment) {
        return toView(await tx.shipment.create({ data: { orderId, idempotencyKey, cancelKey: idempotencyKey, status: 'CANCELLED' } }));
      }
      if (shipment.status === 'CANCELLED') return toView(shipment);
      return toView(await tx.shipment.update({ where: { orderId }, data: { status: 'CANCELLED', cancelKey: idempotencyKey } }));
    });
  }

  /**
   * Stops an order's shipping unless it has shipped: before any shipment it
   * leaves the CANCELLED fence that refuses a late create; a shipment that
   * exists is kept, and the answer says so. The choreographed saga's
   * cancellation and deadlines go through this, as the orchestrated saga's
   * cancel update checks that nothing has shipped.
   */
  async stopUnlessShipped(orderId: string, idempotencyKey: string): Promise<'stopped' | 'shipped'> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM shipping.shipments WHERE order_id = ${orderId} FOR UPDATE`;
      const shipment = await tx.shipment.findUnique({ where: { orderId } });
      if (shipment?.status === 'CREATED') return 'shipped';
      if (!shipment) await tx.shipment.create({ data: { orderId, idempotencyKey, cancelKey: idempotencyKey, status: 'CANCELLED' } });
      return 'stopped';
    });
  }

  /** The carrier's bad days: random outages, and the sandbox's slow and dead postal codes. */
  private async simulateNetwork(postalCode: string, idempotencyKey: string): Promise<void> {
    if (postalCode === UNREACHABLE_POSTAL_CODE) throw new TransientError('Carrier timed out');
    if (postalCode === SLOW_POSTAL_CODE) {
      const { calls } = await this.db.carrierCall.upsert({
        where: { idempotencyKey },
        create: { idempotencyKey, calls: 1 },
        update: { calls: { increment: 1 } },
      });
      if (calls <= SLOW_FAILURES) throw new TransientError(`Carrier timed out (call ${calls} for this key)`);
    }
    if (this.random() < this.failureRate) throw new TransientError('Carrier API unavailable');
  }

  /** Every shipment, for the invariant auditor. */
  async allShipments(): Promise<ShipmentView[]> {
    return (await this.db.shipment.findMany()).map(toView);
  }

  async shipmentFor(orderId: string): Promise<ShipmentView | null> {
    const shipment = await this.shipmentOf(orderId);
    return shipment && toView(shipment);
  }

  private async shipmentOf(orderId: string): Promise<Shipment | null> {
    const [shipment] = await this.db.$queryRaw<Shipment[]>`SELECT ${SHIPMENT_COLUMNS} FROM shipping.shipments WHERE order_id = ${orderId}`;
    return shipment ?? null;
  }
}

function replayCreate(shipment: Shipment, idempotencyKey: string): ShipmentView {
  if (shipment.status === 'CANCELLED') {
    throw new BusinessError('fenced', `Order ${shipment.orderId} was already compensated; not shipping`);
  }
  if (shipment.idempotencyKey !== idempotencyKey) {
    throw new BusinessError('idempotency_conflict', `Order ${shipment.orderId} already has a shipment under another key`);
  }
  return toView(shipment);
}

function toView(s: Shipment): ShipmentView {
  return { orderId: s.orderId, status: s.status, trackingNumber: s.trackingNumber, carrier: s.carrier };
}
