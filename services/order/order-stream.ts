// The JetStream stream that carries the order service's facts. Whoever starts
// first (a relay or a consumer) creates it; everyone after updates it to the
// same configuration, so starting any number of processes in any order is safe.
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { OrderEventType } from './order-events';

export type OrderStreamNames = {
  /** JetStream stream name. */
  stream: string;
  /** Facts are published on `<subjectPrefix>.<EventType>`. */
  subjectPrefix: string;
};

/** The names for a stream called `stream` (NATS_STREAM): its subjects are its name in lower case. */
export function orderStreamNames(stream: string): OrderStreamNames {
  return { stream, subjectPrefix: stream.toLowerCase() };
}

/**
 * How long JetStream remembers a Nats-Msg-Id. A relay that crashed after
 * publishing and before marking the row republishes it on restart; within this
 * window JetStream drops the copy, after it the consumer's inbox does.
 */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
const MAX_AGE_MS = 7 * 24 * 3600_000;
const ms = (n: number) => n * 1_000_000; // JetStream durations are nanoseconds

export function subjectFor(names: OrderStreamNames, type: OrderEventType): string {
  return `${names.subjectPrefix}.${type}`;
}

export async function ensureOrderStream(jsm: JetStreamManager, names: OrderStreamNames): Promise<void> {
  const config = {
    name: names.stream,
    subjects: [`${names.subjectPrefix}.>`],
    duplicate_window: ms(DUPLICATE_WINDOW_MS),
    max_age: ms(MAX_AGE_MS),
  } satisfies Partial<StreamConfig>;
  try {
    await jsm.streams.update(names.stream, config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    // Adding a stream that exists with this very configuration succeeds, so a
    // concurrent first start of another process is fine.
    await jsm.streams.add(config);
  }
}
