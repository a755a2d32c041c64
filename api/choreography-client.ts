// The API's side of a choreographed checkout: what CheckoutClient is for the
// orchestrated one, with the same answers. Placing the order writes it and its
// first event in one transaction (OrderService.place); reading folds its
// timeline (order-projection.ts); cancelling and resolving publish events.
import type { Services } from '../services';
import { BusinessError } from '../services/errors';
import { type Deadlines, type Resolution, TERMINAL_STATUSES } from '../workflows/checkout-types';
import type { UpdateOutcome } from './checkout-client';
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
    if (resolution.action === 'retry') {
      await this.services.orders.retryUndos(orderId);
    } else {
      const { step, reason } = state.failure;
      await this.services.orders.close(orderId, { status: 'RESOLVED_MANUALLY', failedStep: step, reason }, `${orderId}:resolve`);
    }
    return { state: (await this.read(orderId))! };
  }
}
