// What a service does when an event of the choreographed checkout reaches it.
import type { NewSagaEvent, SagaEventOf, SagaEventType } from './saga-events';
import type { SagaSchema } from './saga-outbox';

/** What a reaction decided: events to publish now, and timers (events published when due). */
export type Decision = { publish?: NewSagaEvent[]; schedule?: { event: NewSagaEvent; at: Date }[] };

export type Reaction<T extends SagaEventType = SagaEventType> = {
  /** The durable consumer's name, e.g. `inventory-reserve`. */
  name: string;
  /** The service whose inbox and outbox it uses. */
  schema: SagaSchema;
  /** The event type it reacts to; the order service's timeline takes every type. */
  on: T | '*';
  /**
   * Does the service's work for one event. `attempt` is the delivery: a
   * reaction that throws is delivered again after a backoff, and decides
   * itself when to stop retrying (by publishing a failure instead).
   */
  handle(event: SagaEventOf<T>, attempt: number): Promise<Decision>;
};

/** A reaction, typed by its event while written, in a list of them afterwards. */
export function reaction<T extends SagaEventType>(r: Reaction<T>): Reaction {
  return r as unknown as Reaction;
}
