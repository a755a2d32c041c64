import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { cancelUpdate, checkout, resolveUpdate, statusQuery } from '../workflows';
import type { CheckoutInput, CheckoutState, CheckoutStatus, Deadlines, Resolution } from '../workflows/checkout-types';
import { CUSTOMER_ID, ORDER_STATUS } from '../workflows/search-attributes';
import { orderIdOfWorkflow, workflowIdFor } from '../workflows/workflow-id';

/** The order an Idempotency-Key stands for: the same key always names the same order. */
export const orderIdForKey = (key: string) => `ord_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

export type Started = { workflowId: string; runId: string; replayed: boolean };
export type UpdateOutcome = { state: CheckoutState } | { rejected: string } | 'not_found';
export type OrderSummary = { orderId: string; workflowId: string; status: string; customerId: string | null; startedAt: Date; closedAt: Date | null };

/**
 * The API's side of the saga: start it, read its state, send it updates.
 * Temporal is the idempotency store: a workflow id can be used once, so
 * starting the same order twice cannot start a second saga.
 */
export class CheckoutClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly deadlines?: Deadlines,
  ) {}

  /**
   * Starts the saga, or finds the one already started for this order. The
   * request's hash is kept in the workflow's memo, so a replayed request with
   * a different body can be told apart and refused.
   */
  async start(input: Omit<CheckoutInput, 'deadlines'>, requestHash: string): Promise<Started | 'conflict'> {
    const workflowId = workflowIdFor(input.orderId);
    try {
      const handle = await this.client.workflow.start(checkout, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [{ ...input, deadlines: this.deadlines }],
        memo: { requestHash },
        typedSearchAttributes: [
          { key: ORDER_STATUS, value: 'PENDING' },
          { key: CUSTOMER_ID, value: input.customerId },
        ],
        // Even after the saga has ended, its id is not reused for a new one.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return { workflowId, runId: handle.firstExecutionRunId, replayed: false };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const existing = await this.client.workflow.getHandle(workflowId).describe();
      if (existing.memo?.requestHash !== requestHash) return 'conflict';
      return { workflowId, runId: existing.runId, replayed: true };
    }
  }

  /** The saga's state, or null if there is no such order. */
  async read(orderId: string): Promise<(CheckoutState & { runId: string }) | null> {
    const handle = this.client.workflow.getHandle(workflowIdFor(orderId));
    try {
      const { status, runId } = await handle.describe();
      // A closed saga's final state is its result: no worker has to replay it.
      if (status.name === 'COMPLETED') return { ...(await handle.result()), runId };
      if (status.name === 'FAILED') return { ...(await finalStateOfFailed(handle)), runId };
      return { ...(await handle.query(statusQuery)), runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  async cancel(orderId: string): Promise<UpdateOutcome> {
    // Cancelling a cancelled order again changes nothing, and says so with
    // success, even after the saga has closed and can take no more updates.
    const current = await this.read(orderId);
    if (current?.failure?.reason === 'cancelled_by_customer') return { state: withoutRunId(current) };
    return this.update(orderId, (handle) => handle.executeUpdate(cancelUpdate));
  }

  resolve(orderId: string, resolution: Resolution): Promise<UpdateOutcome> {
    return this.update(orderId, (handle) => handle.executeUpdate(resolveUpdate, { args: [resolution] }));
  }

  /** Orders by status and customer, from the OrderStatus and CustomerId search attributes. */
  async list(filter: { status?: CheckoutStatus; customerId?: string }, limit = 100): Promise<OrderSummary[]> {
    // Values are validated by the caller (a status enum, an id pattern), so
    // they cannot break out of the quoted literals.
    // This deployment's orders only: another app on the namespace may use other
    // payload keys, and its workflows are not ours to list.
    const clauses = ['WorkflowType = "checkout"', `TaskQueue = "${this.taskQueue}"`];
    if (filter.status) clauses.push(`OrderStatus = "${filter.status}"`);
    if (filter.customerId) clauses.push(`CustomerId = "${filter.customerId}"`);
    const orders: OrderSummary[] = [];
    for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      orders.push({
        orderId: orderIdOfWorkflow(wf.workflowId) ?? wf.workflowId,
        workflowId: wf.workflowId,
        status: String(wf.typedSearchAttributes.get(ORDER_STATUS) ?? wf.status.name),
        customerId: wf.typedSearchAttributes.get(CUSTOMER_ID) ?? null,
        startedAt: wf.startTime,
        closedAt: wf.closeTime ?? null,
      });
      if (orders.length >= limit) break;
    }
    return orders;
  }

  /** Sagas of this task queue still running, from Temporal's visibility store (what the in-flight gauge reports). */
  async countInFlight(): Promise<number> {
    const { count } = await this.client.workflow.count(`WorkflowType = "checkout" AND ExecutionStatus = "Running" AND TaskQueue = "${this.taskQueue}"`);
    return count;
  }

  private async update(
    orderId: string,
    send: (handle: WorkflowHandle<typeof checkout>) => Promise<CheckoutState>,
  ): Promise<UpdateOutcome> {
    const handle = this.client.workflow.getHandle<typeof checkout>(workflowIdFor(orderId));
    try {
      return { state: await send(handle) };
    } catch (err) {
      // The workflow's validator said no: the message says why.
      if (err instanceof WorkflowUpdateFailedError) return { rejected: err.cause?.message ?? err.message };
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Updates cannot reach a closed run, which the server reports as "not found".
      const closed = await this.read(orderId);
      return closed ? { rejected: `Order ${orderId} is already ${closed.status}` } : 'not_found';
    }
  }
}

function withoutRunId({ runId: _, ...state }: CheckoutState & { runId: string }): CheckoutState {
  return state;
}

/** A FAILED saga carries its final state in the failure's details. */
async function finalStateOfFailed(handle: WorkflowHandle<typeof checkout>): Promise<CheckoutState> {
  try {
    return await handle.result();
  } catch (err) {
    const details = err instanceof WorkflowFailedError ? (err.cause as { details?: unknown[] } | undefined)?.details : undefined;
    return (details?.[0] as CheckoutState | undefined) ?? handle.query(statusQuery);
  }
}

/**
 * A hash of a validated request. zod builds its output in the schema's key
 * order, whatever the order in the client's JSON, so this is stable.
 */
export function hashRequest(parsedBody: unknown): string {
  return createHash('sha256').update(JSON.stringify(parsedBody)).digest('hex');
}
