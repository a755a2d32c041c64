import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createCheckoutActivities, type CheckoutActivities } from '../../activities/checkout-activities';
import { sleep } from '../../lib/backoff';
import { workflowTraceSinks } from '../../lib/tracing';
import type { TestStack } from './test-stack';

type EventType = keyof typeof temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** An activity held at its start until the test lets it go, so that the test chooses when its result enters the history. */
export type Gate = { reached: Promise<void>; release(): void };

/**
 * The fault-injection harness of test/workflows/interleavings.test.ts: the
 * saga's workflow tasks and its regular activities run in two workers, so the
 * test can take the workflow worker away while activities complete and
 * timers fire, then bring a new one back. The events that piled up in the
 * meantime reach the workflow together, in one workflow task and one
 * activation: the interleaving a loaded or restarted worker produces by
 * chance, forced on purpose.
 *
 * Both workers run the real activities; the workflow worker runs only the
 * local ones (our own services' steps, which execute inside its workflow
 * tasks), the activity worker every regular one.
 */
export class HeldWorkflowTasks {
  private readonly gates = new Map<string, { arrive(): void; released: Promise<void> }>();
  private activityWorker?: { worker: Worker; running: Promise<void> };
  private workflowWorker?: { worker: Worker; running: Promise<void> };
  private connection?: NativeConnection;

  constructor(private readonly stack: TestStack) {}

  /** Starts the activity worker; no workflow task runs until the first resumeWorkflowTasks(). */
  async start(): Promise<this> {
    this.connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    const worker = await Worker.create({
      connection: this.connection,
      taskQueue: this.stack.taskQueue,
      activities: this.activities(),
    });
    this.activityWorker = { worker, running: worker.run() };
    return this;
  }

  /** The next execution of `activity` waits at its start until released; it heartbeats meanwhile, as a slow call would. */
  hold(activity: keyof CheckoutActivities): Gate {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gates.set(activity, { arrive, released });
    return { reached, release };
  }

  /**
   * Runs the saga's workflow tasks until `activity` has started, then takes
   * the workflow worker away. The activity is still held: releasing it puts its
   * result in the history, where it waits for the next workflow worker.
   */
  async heldWithoutWorkflowWorker(activity: keyof CheckoutActivities): Promise<Gate> {
    const gate = this.hold(activity);
    await this.resumeWorkflowTasks();
    await gate.reached;
    await this.holdWorkflowTasks();
    return gate;
  }

  /** No workflow task of the task queue runs until resumeWorkflowTasks(): the worker shuts down, its cache with it. */
  async holdWorkflowTasks(): Promise<void> {
    const current = this.workflowWorker;
    this.workflowWorker = undefined;
    if (!current) return;
    current.worker.shutdown();
    await current.running;
  }

  /** A new workflow worker, with an empty cache: it replays each saga up to its pending task, then runs that task. */
  async resumeWorkflowTasks(bundle?: WorkflowBundle): Promise<void> {
    const worker = await Worker.create({
      connection: this.connection!,
      taskQueue: this.stack.taskQueue,
      workflowBundle: bundle ?? { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      sinks: workflowTraceSinks(undefined),
      activities: this.activities(),
      // Local activities only: the regular ones are the activity worker's, which runs while this one is away.
      enableNonLocalActivities: false,
      // A task that went to the sticky queue of the worker taken away moves to the normal queue after this.
      stickyQueueScheduleToStartTimeout: '1s',
    });
    this.workflowWorker = { worker, running: worker.run() };
  }

  async stop(): Promise<void> {
    for (const gate of this.gates.values()) gate.arrive();
    await this.holdWorkflowTasks();
    if (this.activityWorker) {
      this.activityWorker.worker.shutdown();
      await this.activityWorker.running;
    }
    await this.connection?.close();
  }

  private activities(): CheckoutActivities {
    const real = createCheckoutActivities(this.stack.services);
    const gated = Object.entries(real).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        const gate = this.gates.get(name);
        if (gate) {
          this.gates.delete(name);
          gate.arrive();
          const beat = setInterval(() => Context.current().heartbeat(), 500);
          await gate.released.finally(() => clearInterval(beat));
        }
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]);
    return Object.fromEntries(gated) as CheckoutActivities;
  }
}

/** Waits until the saga's history holds an event for which `match` is true; returns it with the history so far. */
export async function untilEvent(
  handle: WorkflowHandle,
  match: (e: HistoryEvent, events: HistoryEvent[]) => boolean,
  timeoutMs = 30_000,
): Promise<{ event: HistoryEvent; events: HistoryEvent[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const event = events.find((e) => match(e, events));
    if (event) return { event, events };
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: no such event within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const isType = (type: EventType) => (e: HistoryEvent) => e.eventType === temporal.api.enums.v1.EventType[type];

/** The activity type of an ActivityTaskScheduled event, or of the event that ends the activity it scheduled. */
export function activityOf(e: HistoryEvent, events: HistoryEvent[]): string | undefined {
  const scheduledId =
    e.activityTaskCompletedEventAttributes?.scheduledEventId ??
    e.activityTaskFailedEventAttributes?.scheduledEventId ??
    e.activityTaskCanceledEventAttributes?.scheduledEventId;
  const scheduled = scheduledId == null ? e : events.find((s) => Number(s.eventId) === Number(scheduledId));
  return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined;
}

/** `activity` ended with an event of this type (ACTIVITY_TASK_COMPLETED, _FAILED, …). */
export const activityEnded =
  (activity: string, type: EventType = 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED') =>
  (e: HistoryEvent, events: HistoryEvent[]) =>
    isType(type)(e) && activityOf(e, events) === activity;

/**
 * The events that reached the workflow in the workflow task that `event` was
 * delivered with: those after the previous WorkflowTaskStarted, up to the
 * next one. The proof that the test made them meet in one activation.
 */
export function deliveredTogether(events: HistoryEvent[], event: HistoryEvent): HistoryEvent[] {
  const id = Number(event.eventId);
  const started = events.filter(isType('EVENT_TYPE_WORKFLOW_TASK_STARTED')).map((e) => Number(e.eventId));
  const before = Math.max(0, ...started.filter((s) => s < id));
  const after = Math.min(...started.filter((s) => s > id));
  return events.filter((e) => Number(e.eventId) > before && Number(e.eventId) < after);
}

/**
 * Sends an update while the workflow tasks are held, so that it reaches the
 * workflow in the same task as whatever else is pending; resolves with its
 * outcome once a worker has run that task. The server cannot be asked to
 * answer at admission ("waiting on update admitted is not supported"), so
 * this waits a moment for the request to reach it; each test checks in the
 * history, or by the update's answer, that it came in the intended task.
 */
export async function sendUpdate<Ret, Args extends unknown[]>(
  handle: WorkflowHandle,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<{ outcome: Promise<Ret> }> {
  const outcome = handle.executeUpdate<Ret, [unknown]>(update.name, { args: args as unknown as [unknown] });
  // Settled by the test, which may expect a refusal; unhandled until then.
  outcome.catch(() => undefined);
  await sleep(1000);
  return { outcome };
}
