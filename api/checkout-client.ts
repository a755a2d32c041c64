import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { checkout, statusQuery } from '../workflows';
import type { CheckoutInput, CheckoutState } from '../workflows/checkout-types';

export const workflowIdFor = (orderId: string) => `order-${orderId}`;

/** The order an Idempotency-Key stands for: the same key always names the same order. */
export const orderIdForKey = (key: string) => `ord_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

export type Started = { workflowId: string; runId: string; replayed: boolean };

/**
 * The API's side of the saga: start it and read its state. Temporal is the
 * idempotency store: a workflow id can be used once, so starting the same
 * order twice cannot start a second saga.
 */
export class CheckoutClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Starts the saga, or finds the one already started for this order. The
   * request's hash is kept in the workflow's memo, so a replayed request with
   * a different body can be told apart and refused.
   */
  async start(input: CheckoutInput, requestHash: string): Promise<Started | 'conflict'> {
    const workflowId = workflowIdFor(input.orderId);
    try {
      const handle = await this.client.workflow.start(checkout, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [input],
        memo: { requestHash },
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
