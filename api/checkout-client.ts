import { createHash } from 'node:crypto';
import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType, type TypedSearchAttributes } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
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
 * How long the API waits for an operator's resolve. executeUpdate long-polls
 * until the workflow has accepted and run the update, and a resolve answers
 * once its decision has played out (the undos retried): if no worker runs the
 * saga's workflow task, that is never.
 */
export const UPDATE_TIMEOUT_MS = 15_000;

/**
 * How long the API lets Temporal take before it answers without it (see
 * docs/http-api.md, "What a cancel waits for"). Each covers every call to
 * Temporal of one request, the SDK's own retries of an unavailable server
 * included; a request that runs out answers 503 with Retry-After, or, for a
 * read, what the API knows without the saga.
 */
export type TemporalTimeouts = {
  /**
   * A cancel: until the saga has taken the cancel update and answered it. It
   * needs a worker to run a workflow task of the saga; behind a backlog that
   * takes longer, and the cancel is then answered 503, while Temporal keeps it.
   */
  cancelMs: number;
  /** A read: the saga's description and its status query (which needs a worker, too). */
  readMs: number;
  /** Starting a saga, which needs only the server. */
  startMs: number;
};

export const DEFAULT_TIMEOUTS: TemporalTimeouts = { cancelMs: 1500, readMs: 800, startMs: 800 };

/** How long past its deadline a call may take to report that it ran out, before the API stops waiting for it. */
const LATE_MS = 50;

/** A call to Temporal that had not settled by its deadline (see CheckoutClient's `by`). */
export class TemporalTimeout extends Error {
  override name = 'TemporalTimeout';
  constructor() {
    super('Temporal did not answer by the deadline');
  }
}

/**
 * After a cancel's update ran out or was refused, what the API still reads to
 * say why (the task's trouble, a closed saga's final state) gets this long.
 */
const FOLLOW_UP_MS = 400;

/**
 * Every cancel of a saga is the same update, by id: Temporal dedupes update
 * ids within a run, so a cancel sent again (after a 503, or a lost answer)
 * attaches to the one Temporal already holds, or gets its outcome once it has
 * one, and a saga takes at most one customer cancel.
 */
export const CANCEL_UPDATE_ID = 'cancel';

/** The ApplicationFailure type of a cancel the saga accepted, and the shipment's result beat. */
export const ORDER_SHIPPED = 'OrderShipped';

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
/**
 * The build of the worker deployment a saga runs on (Worker Versioning,
 * docs/deploys.md), as Temporal says once a versioned worker has completed one
 * of its workflow tasks: `PINNED`, it runs to its end on that build (or on the
 * one an operator moved it to); `AUTO_UPGRADE`, it moves to the deployment's
 * current build. Null for a saga on an unversioned worker, or before its first
 * workflow task has completed.
 */
export type SagaBuild = { deploymentName: string; buildId: string; behavior: 'PINNED' | 'AUTO_UPGRADE' };
type Read = SagaReading & { runId: string; activities: InFlightActivity[]; build: SagaBuild | null };
type QueryableRead = CheckoutState & { saga: { queryable: true }; runId: string; activities: InFlightActivity[]; build: SagaBuild | null };

export type Started = { workflowId: string; runId: string; replayed: boolean };
/**
 * Where a cancel that got no answer in time stands: `sent`, Temporal holds it
 * for the saga, which has not taken it yet (its workflow task waits for a
 * worker); `accepted`, the saga has taken it, and its outcome is not known yet.
 */
export type PendingCancel = { cancel: 'sent' | 'accepted'; withinMs: number };

/**
 * `saga`: the saga cannot take the update now; `no_answer`: a resolve got no
 * answer within UPDATE_TIMEOUT_MS; `pending`: a cancel got none within its
 * timeout.
 */
export type UpdateOutcome = { state: CheckoutState } | { rejected: string } | { saga: Unqueryable } | { pending: PendingCancel } | 'not_found' | 'no_answer';
export type OrderSummary = {
  orderId: string;
  workflowId: string | null;
  status: string;
  customerId: string | null;
  startedAt: Date;
  closedAt: Date | null;
  build: SagaBuild | null;
};
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
    timeouts: Partial<TemporalTimeouts & { updateMs: number }> = {},
  ) {
    const { updateMs = UPDATE_TIMEOUT_MS, ...rest } = timeouts;
    this.updateTimeoutMs = updateMs;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...rest };
  }

  /** How long a resolve may wait for the saga (a retried workflow task) before the API answers 503. */
  private readonly updateTimeoutMs: number;
  private readonly timeouts: TemporalTimeouts;

  /** Runs `fn` with every call it makes to Temporal bounded by `ms` from now. */
  private within<T>(ms: number, fn: () => Promise<T>): Promise<T> {
    return this.by(Date.now() + ms, fn);
  }

  /**
   * Runs `fn` with every call it makes to Temporal bounded by `deadline`, and
   * settles by then whatever happens. The gRPC deadline ends a call, but not
   * the SDK's backoff between retries of an unavailable server (up to 5 s
   * apart): measured after a dev-server restart, cancels ran 1.5 s past their
   * deadline that way. The call still ends at its deadline, unawaited.
   */
  private by<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    const call = this.client.withDeadline(deadline, fn);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TemporalTimeout()), Math.max(0, deadline - Date.now()) + LATE_MS);
    });
    // Lost the race: its failure is the timeout's, already answered.
    call.catch(() => undefined);
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Starts the saga, or finds the one already started for this order. The
   * request's hash is kept in the workflow's memo, so a replayed request with
   * a different body can be told apart and refused.
   */
  async start(input: Omit<CheckoutInput, 'deadlines'>, requestHash: string): Promise<Started | 'conflict'> {
    const workflowId = workflowIdFor(input.orderId);
    // Bounded: while the server restarts, the SDK retries an unavailable server for about 20 s.
    return this.within(this.timeouts.startMs, () => this.startOrFind(workflowId, input, requestHash));
  }

  private async startOrFind(workflowId: string, input: Omit<CheckoutInput, 'deadlines'>, requestHash: string): Promise<Started | 'conflict'> {
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
    // Each call on its own, so that a query that runs out still leaves what the API knows without it.
    const deadline = Date.now() + this.timeouts.readMs;
    const description = await this.by(deadline, () => describeOrNull(handle));
    return description && this.readDescribed(handle, orderId, description, deadline);
  }

  /**
   * The customer's cancel: the update, sent at once with its fixed id
   * (CANCEL_UPDATE_ID) and awaited within `cancelMs`, and beside it the saga's
   * description, which only the server answers. No query first: it would wait
   * for a worker to run a workflow task of the saga, and the update then waits
   * for another (docs/http-api.md, "What a cancel waits for").
   */
  async cancel(orderId: string): Promise<UpdateOutcome> {
    const handle = this.client.workflow.getHandle<typeof checkout>(workflowIdFor(orderId));
    const withinMs = this.timeouts.cancelMs;
    const deadline = Date.now() + withinMs;
    const described = settle(this.by(deadline, () => describeOrNull(handle)));
    // Why its workflow task is being retried, if it is (one more call, only then): the answer when the update cannot get one.
    const troubled = described.then((d) => (d.ok && d.value?.status.name === 'RUNNING' ? settle(this.by(deadline, () => this.trouble(d.value!))) : undefined));
    let accepted = false;
    const sent = await settle(
      this.by(deadline, async () => {
        const update = await handle.startUpdate(cancelUpdate, { updateId: CANCEL_UPDATE_ID, waitForStage: WorkflowUpdateStage.ACCEPTED });
        accepted = true;
        return update.result();
      }),
    );
    const settled = await described;
    // null: there is no such saga; undefined: the server did not say in time.
    const description = settled.ok ? settled.value : undefined;
    if (description === null) return 'not_found';
    // A closed saga answers from its final state: a cancel of it changes nothing, and its
    // customer's cancel sent again (Temporal still has its first answer) gets the final state.
    if (description && description.status.name !== 'RUNNING') return this.closedCancel(handle, orderId, description, sent.ok ? sent.value : undefined);
    if (sent.ok) return { state: sent.value };
    const err = sent.error;
    if (err instanceof WorkflowUpdateFailedError) {
      // Accepted, and then the shipment's result reached the saga with it: refused like the validator's "has shipped".
      if (err.cause instanceof ApplicationFailure && err.cause.type === ORDER_SHIPPED) return { rejected: err.cause.message };
      // The validator said no. A saga its customer cancelled before (by an API that sent cancels
      // with other ids) refuses as "being compensated": a read tells, if it can in time.
      const rejected = err.cause?.message ?? err.message;
      const current = description && (await settle(this.followUp(() => this.readDescribed(handle, orderId, description))));
      if (current?.ok && isQueryable(current.value) && current.value.failure?.reason === 'cancelled_by_customer') return { state: stateOf(current.value) };
      return { rejected };
    }
    if (isWorkflowNotReady(err) || (isDeadlineExceeded(err) && !accepted)) {
      // Refused, or not taken in time: the saga's workflow task may be in trouble.
      const trouble = await troubled;
      if (trouble?.ok && trouble.value) return { saga: trouble.value };
      if (isWorkflowNotReady(err)) return { saga: notReadyYet(description) };
    }
    if (isDeadlineExceeded(err)) return { pending: { cancel: accepted ? 'accepted' : 'sent', withinMs } };
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    // Closed between the two calls, or the description ran out: read it again.
    const again = await this.followUp(() => describeOrNull(handle));
    if (!again) return 'not_found';
    return this.closedCancel(handle, orderId, again);
  }

  /** A cancel of a saga that has closed: repeated if its customer's cancel ended it, else refused. */
  private async closedCancel(
    handle: WorkflowHandle<typeof checkout>,
    orderId: string,
    description: WorkflowExecutionDescription,
    answered?: CheckoutState,
  ): Promise<UpdateOutcome> {
    const final = await settle(this.followUp(() => finalStateOf(handle, description)));
    if (final.ok && final.value) {
      if (final.value.failure?.reason === 'cancelled_by_customer') return { state: final.value };
      return { rejected: `Order ${orderId} is already ${final.value.status}` };
    }
    // Temporal's answer to the first cancel, which it keeps for the run.
    if (answered) return { state: answered };
    if (!final.ok) throw final.error;
    return { rejected: `Order ${orderId} is already ${lastStatus(description)}` };
  }

  /** `fn` bounded by `deadline`, or as it is without one (its caller bounds it). */
  private until<T>(deadline: number | undefined, fn: () => Promise<T>): Promise<T> {
    return deadline === undefined ? fn() : this.by(deadline, fn);
  }

  /** What the API still asks Temporal after a call ran out, bounded on its own. */
  private followUp<T>(fn: () => Promise<T>): Promise<T> {
    return this.within(FOLLOW_UP_MS, fn);
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
        // A listing carries no versioning info (Temporal's dev server 1.29 leaves it out): its search attributes say the same.
        build: listedBuild(attributes),
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

  /**
   * The saga's state, with every call bounded by the caller's deadline.
   * `deadline` is that deadline, for saying how long the query was given.
   */
  private async readDescribed(handle: WorkflowHandle, orderId: string, description: WorkflowExecutionDescription, deadline?: number): Promise<Read> {
    const { runId } = description;
    // From the description already fetched: no call of its own.
    const build = buildOf(description.raw.workflowExecutionInfo?.versioningInfo);
    // A closed saga's final state is its result: no worker has to replay it.
    const final = await this.until(deadline, () => finalStateOf(handle, description));
    if (final) return { ...final, runId, saga: QUERYABLE, activities: [], build };
    return { ...(await this.query(handle, orderId, description, deadline)), runId, activities: inFlightActivities(description), build };
  }

  /**
   * The status query's answer. A query needs a worker to run it, after the
   * workflow task the saga has pending, if any: when the server refuses it
   * (the task keeps failing), when the task is only being retried, when it has
   * waited longer than a read may take, or when the query gets no answer by
   * the deadline, the saga's last recorded status and why there is no more.
   * Any other error is thrown.
   */
  private async query(handle: WorkflowHandle, orderId: string, description: WorkflowExecutionDescription, deadline?: number): Promise<SagaReading> {
    const withoutSaga = (saga: Unqueryable): SagaReading => ({
      orderId,
      status: lastStatus(description),
      // The steps live in the saga's state, which only the query reads; `services` says what each service did.
      steps: [],
      saga,
    });
    // A retried task: the query would wait for it, and the server refuses it from the third attempt.
    const trouble = await this.until(deadline, () => this.trouble(description));
    if (trouble) return withoutSaga(trouble);
    const waiting = waitingTask(description, this.timeouts.readMs);
    if (waiting) return withoutSaga(waiting);
    try {
      return { ...(await this.until(deadline, () => handle.query(statusQuery))), saga: QUERYABLE };
    } catch (err) {
      if (isWorkflowNotReady(err)) return withoutSaga((await this.followUp(() => this.trouble(description))) ?? notReadyYet(description));
      if (isDeadlineExceeded(err) && deadline !== undefined) return withoutSaga(noAnswer(description, this.timeouts.readMs));
      throw err;
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
      return { state: await this.within(this.updateTimeoutMs, () => send(handle)) };
    } catch (err) {
      // The workflow's validator said no: the message says why.
      if (err instanceof WorkflowUpdateFailedError) return { rejected: err.cause?.message ?? err.message };
      // Refused, or no answer in time: the task may have got into trouble since it was checked.
      if (isWorkflowNotReady(err) || isDeadlineExceeded(err)) {
        const trouble = await this.followUp(async () => this.trouble(await handle.describe()));
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

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise that never rejects: its value, or why it failed. */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The workflow writes every status change to this search attribute, so it is the last status the saga reached. */
function lastStatus(description: WorkflowExecutionDescription): string {
  return String(description.typedSearchAttributes.get(ORDER_STATUS) ?? description.status.name);
}

/**
 * A closed saga's final state, which the server keeps in its history: its
 * result, or for a FAILED one the state in the failure's details. Null while
 * it runs, or when it closed otherwise (terminated, timed out): then only a
 * query, replayed by a worker, says more.
 */
async function finalStateOf(handle: WorkflowHandle<typeof checkout>, description: WorkflowExecutionDescription): Promise<CheckoutState | null> {
  if (description.status.name === 'COMPLETED') return handle.result();
  if (description.status.name !== 'FAILED') return null;
  try {
    await handle.result();
    return null;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    return ((err.cause as { details?: unknown[] } | undefined)?.details?.[0] as CheckoutState | undefined) ?? null;
  }
}

/**
 * The saga's workflow task has waited longer than a read may take (for a
 * worker to pick it up, or to finish it): a query would wait behind it. Not
 * sent, so that a worker with a backlog gets no more work from readers.
 */
function waitingTask(description: WorkflowExecutionDescription, readMs: number): Unqueryable | null {
  const pending = description.raw.pendingWorkflowTask;
  const scheduledAt = optionalTsToMs(pending?.scheduledTime);
  if (!pending || scheduledAt === undefined || Date.now() - scheduledAt <= readMs) return null;
  const seconds = ((Date.now() - scheduledAt) / 1000).toFixed(1);
  return {
    queryable: false,
    stuck: false,
    attempt: pending.attempt ?? 1,
    cause: 'waiting_for_worker',
    message: `The saga's workflow task has waited ${seconds} s for a worker; its state is read when a worker has run it`,
    since: new Date(scheduledAt).toISOString(),
  };
}

/** The status query got no answer by the read's deadline: the saga's worker is behind. */
function noAnswer(description: WorkflowExecutionDescription, readMs: number): Unqueryable {
  return {
    queryable: false,
    stuck: false,
    attempt: description.raw.pendingWorkflowTask?.attempt ?? 0,
    cause: 'query_timeout',
    message: `The saga did not answer its status query within ${readMs} ms`,
    since: null,
  };
}

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

const { VersioningBehavior } = temporal.api.enums.v1;
const BEHAVIOR: Partial<Record<number, SagaBuild['behavior']>> = {
  [VersioningBehavior.VERSIONING_BEHAVIOR_PINNED]: 'PINNED',
  [VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE]: 'AUTO_UPGRADE',
};

/**
 * The build a saga runs on, from its description's versioning info: an
 * operator's pinned override first (npm run ops -- deploy move), which
 * Temporal says takes precedence; else the version that completed its last
 * workflow task, with the behavior that worker gave it (UNSPECIFIED: an
 * unversioned worker, which may still name a deployment and build).
 */
function buildOf(info: temporal.api.workflow.v1.IWorkflowExecutionVersioningInfo | null | undefined): SagaBuild | null {
  const pinned = info?.versioningOverride?.pinned?.version;
  if (pinned?.deploymentName && pinned.buildId) return { deploymentName: pinned.deploymentName, buildId: pinned.buildId, behavior: 'PINNED' };
  const version = info?.deploymentVersion;
  const behavior = info?.versioningOverride?.autoUpgrade ? 'AUTO_UPGRADE' : BEHAVIOR[info?.behavior ?? 0];
  if (!version?.deploymentName || !version.buildId || !behavior) return null;
  return { deploymentName: version.deploymentName, buildId: version.buildId, behavior };
}

// Temporal's own search attributes of a saga on a versioned worker, kept in step with its versioning info.
const WORKER_DEPLOYMENT = defineSearchAttributeKey('TemporalWorkerDeployment', SearchAttributeType.KEYWORD);
/** `<deploymentName>:<buildId>`. */
const WORKER_DEPLOYMENT_VERSION = defineSearchAttributeKey('TemporalWorkerDeploymentVersion', SearchAttributeType.KEYWORD);
/** `Pinned` or `AutoUpgrade`; absent, or `Unspecified`, on an unversioned worker. */
const VERSIONING_BEHAVIOR = defineSearchAttributeKey('TemporalWorkflowVersioningBehavior', SearchAttributeType.KEYWORD);
const LISTED_BEHAVIOR: Record<string, SagaBuild['behavior']> = { Pinned: 'PINNED', AutoUpgrade: 'AUTO_UPGRADE' };

/** The build a listed saga runs on, from its search attributes; null when they name none. */
function listedBuild(attributes: TypedSearchAttributes): SagaBuild | null {
  const version = attributes.get(WORKER_DEPLOYMENT_VERSION);
  const behavior = LISTED_BEHAVIOR[attributes.get(VERSIONING_BEHAVIOR) ?? ''];
  if (!version || !behavior) return null;
  // `:` separates the two: neither a deployment name nor a build id may have one (DEPLOYMENT_NAME's and BUILD_ID's patterns).
  const deploymentName = attributes.get(WORKER_DEPLOYMENT) ?? version.slice(0, version.indexOf(':'));
  if (!deploymentName || !version.startsWith(`${deploymentName}:`)) return null;
  return { deploymentName, buildId: version.slice(deploymentName.length + 1), behavior };
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

function stateOf({ runId: _, saga: __, activities: ___, build: ____, ...state }: QueryableRead): CheckoutState {
  return state;
}

function unqueryable({ since, ...trouble }: WorkflowTaskTrouble): Unqueryable {
  return { queryable: false, ...trouble, since: since?.toISOString() ?? null };
}

/** Refused, yet the task looked healthy when described: it failed just after, or is not scheduled yet. Too early to tell. */
function notReadyYet(description?: WorkflowExecutionDescription): Unqueryable {
  const attempt = description?.raw.pendingWorkflowTask?.attempt ?? 0;
  return { queryable: false, stuck: false, attempt, cause: 'not_ready', message: 'The workflow task is not ready', since: null };
}

// gRPC statuses
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/**
 * Temporal is out of reach (UNAVAILABLE), or did not answer within the
 * request's timeout (DEADLINE_EXCEEDED). An outage, not a bug: worth trying
 * again later. The client wraps the gRPC error in a ServiceError's cause.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof TemporalTimeout) return true;
    if (isGrpcServiceError(e) && (e.code === UNAVAILABLE || e.code === DEADLINE_EXCEEDED)) return true;
  }
  return false;
}

/** A call ran out of time: its deadline passed (the gRPC status, or the SDK's error for an update's). */
export function isDeadlineExceeded(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || e instanceof TemporalTimeout) return true;
    if (isGrpcServiceError(e) && e.code === DEADLINE_EXCEEDED) return true;
  }
  return false;
}

/**
 * A hash of a validated request. zod builds its output in the schema's key
 * order, whatever the order in the client's JSON, so this is stable.
 */
export function hashRequest(parsedBody: unknown): string {
  return createHash('sha256').update(JSON.stringify(parsedBody)).digest('hex');
}
