// The notification service's durable JetStream consumer. A fact is acked only
// after the notification service committed it, so a crash in between means a
// redelivery, which the inbox turns into a no-op. A fact that does not parse is
// terminated (logged, never redelivered): retrying cannot fix it, and it must
// not block the facts behind it.
import { AckPolicy, DeliverPolicy, JetStreamApiError, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { backoffMs, sleep } from '../../lib/backoff';
import { errorText, type Log } from '../../lib/nats-connection';
import { orderClosedFactSchema, type OrderClosedFact } from '../order/order-events';
import type { OrderStreamNames } from '../order/order-stream';
import type { NotificationService } from './notification-service';

export const NOTIFICATION_CONSUMER = 'notifications';
const ACK_WAIT_MS = 30_000;
/** A fact that could not be stored (database down) comes back after this. */
const RETRY_DELAY_MS = 5_000;

export async function ensureNotificationConsumer(jsm: JetStreamManager, names: OrderStreamNames, durable = NOTIFICATION_CONSUMER): Promise<void> {
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${names.subjectPrefix}.>`,
    ack_wait: ACK_WAIT_MS * 1_000_000,
    // Never give up on a fact: only a malformed one is dropped, and that explicitly.
    max_deliver: -1,
  };
  try {
    await jsm.consumers.add(names.stream, config);
  } catch (err) {
    // It exists with another configuration (an older version of this code).
    if (!(err instanceof JetStreamApiError)) throw err;
    await jsm.consumers.update(names.stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, filter_subject: config.filter_subject });
  }
}

export class NotificationConsumer {
  constructor(
    private readonly notifications: NotificationService,
    private readonly log: Log,
  ) {}

  /** Handles one delivery; exported for the consumer loop only, and for tests that drive it message by message. */
  async handle(msg: JsMsg): Promise<'sent' | 'duplicate' | 'malformed' | 'retry'> {
    const fact = parse(msg);
    if (!fact.success) {
      this.log(`notifications: terminated malformed fact #${msg.seq} on ${msg.subject}: ${fact.error}`);
      // No reason argument: nats-server before 2.10.4 (Debian's is 2.9.10) does
      // not recognise "+TERM <reason>" and would redeliver the message forever.
      msg.term();
      return 'malformed';
    }
    try {
      const outcome = await this.notifications.handle(fact.data);
      msg.ack();
      return outcome;
    } catch (err) {
      this.log(`notifications: could not store fact ${fact.data.eventId} (${errorText(err)}); redelivery in ${RETRY_DELAY_MS / 1000} s`);
      msg.nak(RETRY_DELAY_MS);
      return 'retry';
    }
  }

  /** Consumes until the signal aborts, re-subscribing after failures. */
  async run(js: JetStreamClient, names: OrderStreamNames, signal: AbortSignal, durable = NOTIFICATION_CONSUMER): Promise<void> {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        const consumer = await js.consumers.get(names.stream, durable);
        const messages = await consumer.consume({ max_messages: 50 });
        const stop = () => void messages.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const msg of messages) {
            failures = 0;
            await this.handle(msg);
          }
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log(`notifications: consumer stopped (${errorText(err)}); resubscribing`);
      }
      await sleep(backoffMs(failures), signal);
    }
  }
}

function parse(msg: JsMsg): { success: true; data: OrderClosedFact } | { success: false; error: string } {
  let json: unknown;
  try {
    json = msg.json();
  } catch {
    return { success: false, error: 'not JSON' };
  }
  const fact = orderClosedFactSchema.safeParse(json);
  if (fact.success) return { success: true, data: fact.data };
  return { success: false, error: fact.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
