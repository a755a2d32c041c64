// The JetStream streams of the choreographed checkout: the saga's events, and
// the dead-letter stream for events no consumer can read. Created or updated to
// the same configuration by whichever process starts first, like the order
// facts' stream (services/order/order-stream.ts).
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { DUPLICATE_WINDOW_MS } from '../order/order-stream';

export type SagaStreamNames = { stream: string; subjectPrefix: string; deadLetterStream: string; deadLetterPrefix: string };

/** Named after the order facts' stream (NATS_STREAM): `<stream>_SAGA` and `<stream>_SAGA_DLQ`. */
export function sagaStreamNames(natsStream: string): SagaStreamNames {
  const stream = `${natsStream}_SAGA`;
  return { stream, subjectPrefix: stream.toLowerCase(), deadLetterStream: `${stream}_DLQ`, deadLetterPrefix: `${stream}_DLQ`.toLowerCase() };
}

export const sagaSubject = (names: SagaStreamNames, type: string) => `${names.subjectPrefix}.${type}`;
export const deadLetterSubject = (names: SagaStreamNames, consumer: string) => `${names.deadLetterPrefix}.${consumer}`;

const ns = (ms: number) => ms * 1_000_000; // JetStream durations are nanoseconds
/** An event not acknowledged within this is delivered again (the consumer died with it). */
export const SAGA_ACK_WAIT_MS = 30_000;

export async function ensureSagaStreams(jsm: JetStreamManager, names: SagaStreamNames): Promise<void> {
  await ensureStream(jsm, {
    name: names.stream,
    subjects: [`${names.subjectPrefix}.>`],
    duplicate_window: ns(DUPLICATE_WINDOW_MS),
    max_age: ns(7 * 24 * 3600_000),
  });
  // Dead letters are kept until someone looks at them: 30 days.
  await ensureStream(jsm, { name: names.deadLetterStream, subjects: [`${names.deadLetterPrefix}.>`], max_age: ns(30 * 24 * 3600_000) });
}

/** A durable consumer for one reaction: one event type (or every type, for the order's timeline). */
export async function ensureSagaConsumer(jsm: JetStreamManager, names: SagaStreamNames, durable: string, filterSubject: string): Promise<void> {
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: filterSubject,
    ack_wait: ns(SAGA_ACK_WAIT_MS),
    // Never given up by NATS: a reaction decides itself when retrying is over.
    max_deliver: -1,
    max_ack_pending: 1000,
  };
  try {
    await jsm.consumers.add(names.stream, config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) throw err;
    await jsm.consumers.update(names.stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, filter_subject: filterSubject });
  }
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(config);
  }
}
