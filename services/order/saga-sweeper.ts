// The stuck-saga sweeper of the choreographed checkout. Nothing watches a
// choreographed saga as a whole, so an order whose events stopped (an event
// dead-lettered, a reaction that keeps failing) would stay open forever. The
// sweeper finds open orders with no event for a while and stops them: before
// shipment it asks for a stop, which compensates; an order that is already
// compensating, shipped, or was asked before, goes to FAILED_NEEDS_MANUAL.
import type { Db } from '../../lib/db';
import { nextStep, type SagaEvent } from '../choreography/saga-events';
import type { OrderService } from './order-service';

export type SweepResult = { stopped: string[]; heldForOperator: string[] };

export class SagaSweeper {
  constructor(
    private readonly db: Db,
    private readonly orders: OrderService,
    /** An open order with no event for this long has stalled. */
    private readonly stalledAfterSeconds: number,
  ) {}

  async sweepOnce(now = new Date(), batch = 100): Promise<SweepResult> {
    const cutoff = new Date(now.getTime() - this.stalledAfterSeconds * 1000);
    const stalled = await this.db.$queryRaw<{ id: string }[]>`
      SELECT o.id FROM orders.orders o
      WHERE o.coordination = 'choreography' AND o.status = 'PENDING' AND o.updated_at < ${cutoff}
        AND NOT EXISTS (SELECT 1 FROM orders.saga_events e WHERE e.order_id = o.id AND e.received_at >= ${cutoff})
      ORDER BY o.updated_at
      LIMIT ${batch}`;
    const result: SweepResult = { stopped: [], heldForOperator: [] };
    for (const { id } of stalled) {
      const timeline = await this.orders.timeline(id);
      const types = new Set(timeline.map((e) => e.type));
      if (!types.has('StopRequested') && (await this.orders.requestStop(id, 'stalled'))) {
        result.stopped.push(id);
        continue;
      }
      const failure = lastFailure(timeline);
      await this.orders.holdForOperator(id, { failedStep: failure?.step ?? nextStep(types) ?? 'completeOrder', reason: 'stalled' });
      result.heldForOperator.push(id);
    }
    return result;
  }
}

function lastFailure(timeline: SagaEvent[]) {
  for (const event of [...timeline].reverse()) if ('failure' in event) return event.failure;
  return null;
}
