import { createHash } from 'node:crypto';
import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { isWorkflowNotReady, workflowTaskTrouble, type WorkflowTaskTrouble } from '../lib/workflow-task-health';
import { cancelUpdate, checkout, resolveUpdate, statusQuery } from '../workflows';
import {
  CHECKOUT_STATUSES,
  type CheckoutInput,
  type CheckoutState,
  type CheckoutStatus,
  type Deadlines,
  type Resolution,
  type StepState,
} from '../workflows/checkout-types';
import { CUSTOMER_ID, ORDER_STATUS } from '../workflows/search-attributes';
import { orderIdOfWorkflow, workflowIdFor } from '../workflows/workflow-id';

/** The order an Idempotency-Key stands for: the same key always names the same order. */
export const orderIdForKey = (key: string) => `ord_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

/**
 * How long the API waits for an update's answer. executeUpdate long-polls
 * until the workflow has accepted and run the update: if no worker runs the
 * saga's workflow task, that is never.
 */
export const UPDATE_TIMEOUT_MS = 15_000;

/**
 * A saga the server will not query or update, because its workflow task is
 * being retried (see lib/workflow-task-health.ts), and why.
 */
export type Unqueryable = {
  queryable: false;
  /** It will not recover by itself: an operator must rescue it. */
  stuck: boolean;
  /** The pending workflow task's attempt. */
  attempt: number;
  /** `non_deterministic_error`, `workflow_worker_unhandled_failure`, `timed_out`, … */
  cause: string;
  message: string;
  /** When the failure that started the retries happened (ISO 8601). */
  since: string | null;
};

/**
 * The saga's own state; or, when it cannot be queried, what the API can say
 * without it: the last status it recorded, no steps, and why.
 */
export type SagaReading = (CheckoutState & { saga: { queryable: true } }) | { orderId: string; status: string; steps: StepState[]; saga: Unqueryable };

/**
 * A regular activity the server has scheduled and not yet seen finish (the
 * payment provider, the carrier, an undo): from attempt 2 on, it is being
 * retried, and `lastFailure` says why. Local activities (our own services'
 * steps) run inside the workflow task, and the server does not see them.
 */
export type InFlightActivity = {
  activity: string;
  attempt: number;
  /** The last attempt's failure: its message, and its type (e.g. `TransientError`) when it has one. */
  lastFailure: { message: string; type: string | null } | null;
  /** When the next attempt starts, while it waits for its backoff (ISO 8601). */
  nextAttemptAt: string | null;
};
type Read = SagaReading & { runId: string; activities: InFlightActivity[] };
type QueryableRead = CheckoutState & { saga: { queryable: true }; runId: string; activities: InFlightActivity[] };

export type Started = { workflowId: string; runId: string; replayed: boolean };
/** `saga`: the saga cannot take the update now; `no_answer`: it did not answer within UPDATE_TIMEOUT_MS. */
export type UpdateOutcome = { state: CheckoutState } | { rejected: string } | { saga: Unqueryable } | 'not_found' | 'no_answer';
export type OrderSummary = { orderId: string; workflowId: string | null; status: string; customerId: string | null; startedAt: Date; closedAt: Date | null };
/** A page of orders, and the visibility store's token for the next one when there is more. */
export type OrderPage = { orders: OrderSummary[]; nextPageToken: Uint8Array | null };

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
    /** How long an update may wait for the saga (a retried workflow task) before the API answers 503. */
    private readonly updateTimeoutMs = UPDATE_TIMEOUT_MS,
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

  /** The saga's state (or what can be said without it, when it cannot be queried), or null if there is no such order. */
  async read(orderId: string): Promise<Read | null> {
    const handle = this.client.workflow.getHandle(workflowIdFor(orderId));
    try {
      return await this.readDescribed(handle, orderId, await handle.describe());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  async cancel(orderId: string): Promise<UpdateOutcome> {
    const handle = this.client.workflow.getHandle(workflowIdFor(orderId));
    const description = await describeOrNull(handle);
    if (!description) return 'not_found';
    const trouble = await this.trouble(description);
    if (trouble?.stuck) return { saga: trouble };
    // A task that is only being retried (a worker died in it) may succeed any
    // moment: the update is sent, and waits for it within its deadline. A
    // query would wait too, so the saga is read only when it is healthy.
    if (!trouble) {
      const current = await this.readDescribed(handle, orderId, description);
      // Its task failed since the describe: the server would refuse the update too.
      if (!isQueryable(current)) return { saga: current.saga };
      // Cancelling a cancelled order again changes nothing, and says so with
      // success, even after the saga has closed and can take no more updates.
      if (current.failure?.reason === 'cancelled_by_customer') return { state: stateOf(current) };
    }
    const outcome = await this.update(orderId, (handle) => handle.executeUpdate(cancelUpdate));
    // Refused because the saga ended: if a cancel ended it (one whose answer
    // was lost, say), this one is answered as a repeat of it.
    if (typeof outcome === 'object' && 'rejected' in outcome) {
      const current = await this.read(orderId);
      if (current && isQueryable(current) && current.failure?.reason === 'cancelled_by_customer') return { state: stateOf(current) };
    }
    return outcome;
  }

  async resolve(orderId: string, resolution: Resolution): Promise<UpdateOutcome> {
    const description = await describeOrNull(this.client.workflow.getHandle(workflowIdFor(orderId)));
    if (!description) return 'not_found';
    const trouble = await this.trouble(description);
    if (trouble?.stuck) return { saga: trouble };
    return this.update(orderId, (handle) => handle.executeUpdate(resolveUpdate, { args: [resolution] }));
  }

  /**
   * A page of orders by status and customer, from the OrderStatus and
   * CustomerId search attributes, newest first. `pageToken` is the
   * `nextPageToken` of the page before, as the visibility store issued it
   * (the SDK's list() walks every page and keeps the token to itself).
   */
  async list(
    filter: { status?: CheckoutStatus; customerId?: string },
    { limit = 100, pageToken }: { limit?: number; pageToken?: Uint8Array } = {},
  ): Promise<OrderPage> {
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: this.ordersQuery(filter),
      pageSize: limit,
      nextPageToken: pageToken,
    });
    const orders = response.executions.map((raw): OrderSummary => {
      const workflowId = raw.execution?.workflowId ?? '';
      // Search attributes never go through the payload codec: plain JSON payloads.
      const attributes = decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields);
      const closedAt = optionalTsToMs(raw.closeTime);
      return {
        orderId: orderIdOfWorkflow(workflowId) ?? workflowId,
        workflowId,
        status: String(attributes.get(ORDER_STATUS) ?? 'UNKNOWN'),
        customerId: attributes.get(CUSTOMER_ID) ?? null,
        startedAt: new Date(optionalTsToMs(raw.startTime) ?? 0),
        closedAt: closedAt === undefined ? null : new Date(closedAt),
      };
    });
    const next = response.nextPageToken;
    return { orders, nextPageToken: next?.length ? next : null };
  }

  /** How many orders are in each status, from the OrderStatus search attribute: one count per status, side by side. */
  async countByStatus(): Promise<Record<CheckoutStatus, number>> {
    // The visibility store groups counts by ExecutionStatus only, not by a search attribute of ours.
    const counts = await Promise.all(
      CHECKOUT_STATUSES.map(async (status) => [status, (await this.client.workflow.count(this.ordersQuery({ status }))).count] as const),
    );
    return Object.fromEntries(counts) as Record<CheckoutStatus, number>;
  }

  private ordersQuery(filter: { status?: CheckoutStatus; customerId?: string }): string {
    // Values are validated by the caller (a status enum, an id pattern), so
    // they cannot break out of the quoted literals.
    // This deployment's orders only: another app on the namespace may use other
    // payload keys, and its workflows are not ours to list.
    const clauses = ['WorkflowType = "checkout"', `TaskQueue = "${this.taskQueue}"`];
    if (filter.status) clauses.push(`OrderStatus = "${filter.status}"`);
    if (filter.customerId) clauses.push(`CustomerId = "${filter.customerId}"`);
    return clauses.join(' AND ');
  }

  /** Sagas of this task queue still running, from Temporal's visibility store (what the in-flight gauge reports). */
  async countInFlight(): Promise<number> {
    const { count } = await this.client.workflow.count(`WorkflowType = "checkout" AND ExecutionStatus = "Running" AND TaskQueue = "${this.taskQueue}"`);
    return count;
  }

  private async readDescribed(handle: WorkflowHandle, orderId: string, description: WorkflowExecutionDescription): Promise<Read> {
    const { status, runId } = description;
    // A closed saga's final state is its result: no worker has to replay it.
    if (status.name === 'COMPLETED') return { ...(await handle.result()), runId, saga: QUERYABLE, activities: [] };
    if (status.name === 'FAILED') return { ...(await finalStateOfFailed(handle)), runId, saga: QUERYABLE, activities: [] };
    return { ...(await this.query(handle, orderId, description)), runId, activities: inFlightActivities(description) };
  }

  /**
   * The status query's answer. If the server refuses it because the saga's
   * workflow task keeps failing, the saga's last recorded status and why it
   * cannot be queried; any other error is thrown.
   */
  private async query(handle: WorkflowHandle, orderId: string, description: WorkflowExecutionDescription): Promise<SagaReading> {
    try {
      return { ...(await handle.query(statusQuery)), saga: QUERYABLE };
    } catch (err) {
      if (!isWorkflowNotReady(err)) throw err;
      return {
        orderId,
        // The workflow writes every status change to this search attribute, so it is the last status the saga reached.
        status: String(description.typedSearchAttributes.get(ORDER_STATUS) ?? description.status.name),
        // The steps live in the saga's state, which only the query reads; `services` says what each service did.
        steps: [],
        saga: (await this.trouble(description)) ?? notReadyYet(description),
      };
    }
  }

  /**
   * Why the saga's workflow task is being retried, or null. The server refuses
   * updates once the task has failed twice (stuck: nothing is sent then);
   * before that, an update waits for a worker to run the task, within the
   * update's deadline.
   */
  private async trouble(description: WorkflowExecutionDescription): Promise<Unqueryable | null> {
    const { workflowId, runId } = description;
    const trouble = await workflowTaskTrouble(this.client, { workflowId, runId }, description);
    return trouble && unqueryable(trouble);
  }

  private async update(orderId: string, send: (handle: WorkflowHandle<typeof checkout>) => Promise<CheckoutState>): Promise<UpdateOutcome> {
    const workflowId = workflowIdFor(orderId);
    const handle = this.client.workflow.getHandle<typeof checkout>(workflowId);
    try {
      // The deadline covers every call executeUpdate makes, its long polls included.
      return { state: await this.client.withDeadline(Date.now() + this.updateTimeoutMs, () => send(handle)) };
    } catch (err) {
      // The workflow's validator said no: the message says why.
      if (err instanceof WorkflowUpdateFailedError) return { rejected: err.cause?.message ?? err.message };
      // Refused, or no answer in time: the task may have got into trouble since it was checked.
      if (isWorkflowNotReady(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        const trouble = await this.trouble(await handle.describe());
        return trouble ? { saga: trouble } : 'no_answer';
      }
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Updates cannot reach a closed run, which the server reports as "not found".
      const closed = await this.read(orderId);
      return closed ? { rejected: `Order ${orderId} is already ${closed.status}` } : 'not_found';
    }
  }
}

const QUERYABLE = { queryable: true } as const;

/** From the description the API has fetched anyway: the saga's regular activities in flight, retries included. */
function inFlightActivities(description: WorkflowExecutionDescription): InFlightActivity[] {
  return (description.raw.pendingActivities ?? []).map((pending) => {
    const nextAttemptAt = optionalTsToMs(pending.nextAttemptScheduleTime);
    const failure = pending.lastFailure;
    return {
      activity: pending.activityType?.name ?? 'unknown',
      attempt: pending.attempt ?? 1,
      lastFailure: failure ? { message: failure.message ?? '', type: failure.applicationFailureInfo?.type || null } : null,
      nextAttemptAt: nextAttemptAt === undefined ? null : new Date(nextAttemptAt).toISOString(),
    };
  });
}

async function describeOrNull(handle: WorkflowHandle): Promise<WorkflowExecutionDescription | null> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

const isQueryable = (read: Read): read is QueryableRead => read.saga.queryable;

function stateOf({ runId: _, saga: __, activities: ___, ...state }: QueryableRead): CheckoutState {
  return state;
}

function unqueryable({ since, ...trouble }: WorkflowTaskTrouble): Unqueryable {
  return { queryable: false, ...trouble, since: since?.toISOString() ?? null };
}

/** Refused, yet the task looked healthy when described: it failed just after, or is not scheduled yet. Too early to tell. */
function notReadyYet(description: WorkflowExecutionDescription): Unqueryable {
  const attempt = description.raw.pendingWorkflowTask?.attempt ?? 0;
  return { queryable: false, stuck: false, attempt, cause: 'not_ready', message: 'The workflow task is not ready', since: null };
}

// gRPC statuses
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/**
 * Temporal is out of reach (UNAVAILABLE), or no worker answered in time (a
 * query no worker picked up: DEADLINE_EXCEEDED). An outage, not a bug: worth
 * trying again later. The client wraps the gRPC error in a ServiceError's cause.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e) && (e.code === UNAVAILABLE || e.code === DEADLINE_EXCEEDED)) return true;
  }
  return false;
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
