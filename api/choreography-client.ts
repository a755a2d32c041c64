// The API's side of a choreographed checkout: what CheckoutClient is for the
// orchestrated one, with the same answers. Placing the order writes it and its
// first event in one transaction (OrderService.place); reading folds its
// timeline (order-projection.ts); cancelling and resolving publish events.
import type { Services } from '../services';
import { BusinessError } from '../services/errors';
import { CHECKOUT_STATUSES, type CheckoutStatus, type Deadlines, type Resolution, TERMINAL_STATUSES } from '../workflows/checkout-types';
import type { OrderPage, OrderSummary, UpdateOutcome } from './checkout-client';
import type { OrderRequest } from './order-request';
import { projectCheckout } from './order-projection';

export class ChoreographyClient {
  constructor(
    private readonly services: Services,
    private readonly deadlines: Deadlines,
  ) {}

  /**
   * Places the order, or finds it placed by an earlier request with the same
   * body; the body's hash is part of the key, so another body is a conflict.
   */
  async start(orderId: string, order: OrderRequest, requestHash: string): Promise<{ replayed: boolean } | 'conflict'> {
    try {
      const { placed } = await this.services.orders.place(
        {
          orderId,
          customerId: order.customerId,
          items: order.items,
          paymentToken: order.payment.token,
          shippingAddress: order.shippingAddress,
          deadlines: this.deadlines,
        },
        `${orderId}:placeOrder:${requestHash}`,
      );
      return { replayed: !placed };
    } catch (err) {
      if (err instanceof BusinessError && err.code === 'idempotency_conflict') return 'conflict';
      throw err;
    }
  }

  /**
   * A page of choreographed orders, newest first. Their status here is the
   * order record's: PENDING while the saga runs (GET /orders/:id tells the
   * step), then how it ended. The page token is the last row's position.
   */
  async list(
    filter: { status?: CheckoutStatus; customerId?: string },
    { limit = 100, pageToken }: { limit?: number; pageToken?: Uint8Array } = {},
  ): Promise<OrderPage> {
    const after = pageToken ? (JSON.parse(Buffer.from(pageToken).toString()) as { createdAt: string; id: string }) : undefined;
    const rows = await this.services.orders.listChoreographed(filter, { limit, after: after && { createdAt: new Date(after.createdAt), id: after.id } });
    const orders = rows.map(
      (row): OrderSummary => ({
        orderId: row.orderId,
        workflowId: null,
        status: row.status,
        customerId: row.customerId,
        startedAt: row.createdAt,
        closedAt: row.status === 'PENDING' || row.status === 'FAILED_NEEDS_MANUAL' ? null : row.updatedAt,
        // No worker build runs a choreographed order: the services do.
        build: null,
      }),
    );
    const last = rows.at(-1);
    const nextPageToken = rows.length === limit && last ? Buffer.from(JSON.stringify({ createdAt: last.createdAt.toISOString(), id: last.orderId })) : null;
    return { orders, nextPageToken };
  }

  /** How many choreographed orders each status has, by the order record's status. */
  async countByStatus(): Promise<Record<CheckoutStatus, number>> {
    const counts = await this.services.orders.countChoreographed();
    return Object.fromEntries(CHECKOUT_STATUSES.map((status) => [status, counts[status] ?? 0])) as Record<CheckoutStatus, number>;
  }

  async read(orderId: string) {
    const order = await this.services.orders.orderFor(orderId);
    if (!order) return null;
    return projectCheckout(order, await this.services.orders.timeline(orderId));
  }

  /**
   * Asks the saga to stop. Refused here when the order has shipped or closed;
   * otherwise the shipping service has the last word (a shipment created in
   * the meantime wins, and the timeline says StopRefused).
   */
  async cancel(orderId: string): Promise<UpdateOutcome> {
    const state = await this.read(orderId);
    if (!state) return 'not_found';
    if (state.failure?.reason === 'cancelled_by_customer') return { state };
    const shipment = await this.services.shipping.shipmentFor(orderId);
    if (shipment?.status === 'CREATED') return { rejected: `Order ${orderId} has shipped and can no longer be cancelled` };
    if (TERMINAL_STATUSES.includes(state.status) || state.status === 'FAILED_NEEDS_MANUAL') return { rejected: `Order ${orderId} is already ${state.status}` };
    // Stopping a saga that is rolling back changes nothing, as for the orchestrated saga.
    if (state.status === 'COMPENSATING') return { state };
    if (!(await this.services.orders.requestStop(orderId, 'cancelled_by_customer'))) return { rejected: `Order ${orderId} can no longer be cancelled` };
    return { state: (await this.read(orderId))! };
  }

  async resolve(orderId: string, resolution: Resolution): Promise<UpdateOutcome> {
    const state = await this.read(orderId);
    if (!state) return 'not_found';
    if (state.status !== 'FAILED_NEEDS_MANUAL' || !state.failure) return { rejected: `Order ${orderId} is ${state.status}, not waiting for an operator` };
    await this.services.orders.recordResolution(orderId, resolution);
    if (resolution.action === 'retry') {
      await this.services.orders.retryUndos(orderId);
    } else {
      const { step, reason } = state.failure;
      await this.services.orders.close(orderId, { status: 'RESOLVED_MANUALLY', failedStep: step, reason }, `${orderId}:resolve`);
    }
    return { state: (await this.read(orderId))! };
  }
}
