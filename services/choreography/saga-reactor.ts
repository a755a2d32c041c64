// Runs one reaction of the choreographed checkout: a durable JetStream
// consumer, an inbox that deduplicates by event id, the service's work, and
// the events it publishes, written to its outbox in one transaction with the
// inbox row. The work itself is idempotent by a key derived from the order,
// so a crash between the work and that transaction only means a redelivery
// that finds the work done and writes the same events again.
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { FORWARD_RETRY } from '../../domain/checkout-vocabulary';
import { Prisma } from '../../generated/prisma/client';
import { backoffMs, sleep } from '../../lib/backoff';
import type { Db } from '../../lib/db';
import { errorText, type Log } from '../../lib/nats-connection';
import type { Reaction } from './reaction';
import { parseSagaEvent, type SagaEvent } from './saga-events';
import { completeEvent, type SagaSchema, writeToOutbox } from './saga-outbox';
import { deadLetterSubject, type SagaStreamNames } from './saga-stream';
import { RetryAfter } from './step-outcome';

export type ReactorOutcome = 'handled' | 'duplicate' | 'retry' | 'dead_letter';

export class SagaReactor {
  constructor(
    private readonly db: Db,
    private readonly js: JetStreamClient,
    private readonly names: SagaStreamNames,
    private readonly log: Log,
    private readonly count: (consumer: string, outcome: ReactorOutcome) => void = () => undefined,
  ) {}

  /** Handles one delivery; the consumer loop's body, and what tests drive message by message. */
  async handle(reaction: Reaction, msg: JsMsg): Promise<ReactorOutcome> {
    const outcome = await this.handleOnce(reaction, msg);
    this.count(reaction.name, outcome);
    return outcome;
  }

  private async handleOnce(reaction: Reaction, msg: JsMsg): Promise<ReactorOutcome> {
    const parsed = parseSagaEvent(msg.data);
    if (!parsed.ok) {
      // Kept, never dropped: the dead-letter stream holds the bytes and why.
      try {
        await this.js.publish(deadLetterSubject(this.names, reaction.name), msg.data, {
          msgID: `${reaction.name}:${msg.info.streamSequence}`,
          headers: deadLetterHeaders(parsed.reason, parsed.detail, msg.subject),
        });
      } catch (err) {
        this.log(`${reaction.name}: could not dead-letter #${msg.seq} (${errorText(err)}); redelivering`);
        msg.nak(5_000);
        return 'retry';
      }
      this.log(`${reaction.name}: dead-lettered #${msg.seq} on ${msg.subject}: ${parsed.reason} (${parsed.detail})`);
      msg.term();
      return 'dead_letter';
    }
    const event = parsed.event;
    const attempt = msg.info.deliveryCount;
    try {
      if (await this.seen(reaction.schema, event.eventId)) {
        msg.ack();
        return 'duplicate';
      }
      const decision = await reaction.handle(event as never, attempt);
      await this.db.$transaction(async (tx) => {
        await this.record(tx, reaction.schema, event);
        const now = new Date();
        await writeToOutbox(
          tx,
          reaction.schema,
          (decision.publish ?? []).map((e) => completeEvent(event.orderId, event.order, e, now)),
        );
        for (const timer of decision.schedule ?? []) {
          await writeToOutbox(tx, reaction.schema, [completeEvent(event.orderId, event.order, timer.event, timer.at)], timer.at);
        }
      });
      msg.ack();
      return 'handled';
    } catch (err) {
      // Redeliveries back off as a forward step's retries do; the reaction itself decides when to stop (step-outcome.ts).
      const delay =
        err instanceof RetryAfter ? err.ms : backoffMs(attempt - 1, { baseMs: FORWARD_RETRY.initialIntervalMs, maxMs: FORWARD_RETRY.maximumIntervalMs });
      if (attempt > 3) this.log(`${reaction.name}: ${event.type} of ${event.orderId} failed on delivery ${attempt} (${errorText(err)}); again in ${delay} ms`);
      msg.nak(delay);
      return 'retry';
    }
  }

  /** Consumes until the signal aborts, `concurrency` events at a time, re-subscribing after failures. */
  async run(reaction: Reaction, signal: AbortSignal, concurrency = 16): Promise<void> {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        const consumer = await this.js.consumers.get(this.names.stream, reaction.name);
        const messages = await consumer.consume({ max_messages: concurrency * 2 });
        const stop = () => void messages.stop();
        signal.addEventListener('abort', stop, { once: true });
        const inFlight = new Set<Promise<unknown>>();
        try {
          for await (const msg of messages) {
            failures = 0;
            const p = this.handle(reaction, msg).finally(() => inFlight.delete(p));
            inFlight.add(p);
            if (inFlight.size >= concurrency) await Promise.race(inFlight);
          }
        } finally {
          signal.removeEventListener('abort', stop);
          await Promise.allSettled(inFlight);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log(`${reaction.name}: consumer stopped (${errorText(err)}); resubscribing`);
      }
      await sleep(backoffMs(failures), signal);
    }
  }

  private async seen(schema: SagaSchema, eventId: string): Promise<boolean> {
    const rows =
      schema === 'orders'
        ? await this.db.$queryRaw<unknown[]>`SELECT 1 FROM orders.saga_events WHERE event_id = ${eventId}`
        : await this.db.$queryRaw<unknown[]>`SELECT 1 FROM ${Prisma.raw(`"${schema}".saga_inbox`)} WHERE event_id = ${eventId}`;
    return rows.length > 0;
  }

  /** The inbox row. The order service's inbox keeps the whole event: it is the order's timeline (order-projection.ts). */
  private async record(tx: Pick<Db, '$executeRaw'>, schema: SagaSchema, event: SagaEvent): Promise<void> {
    if (schema === 'orders') {
      await tx.$executeRaw`
        INSERT INTO orders.saga_events (event_id, order_id, type, payload, occurred_at)
        VALUES (${event.eventId}, ${event.orderId}, ${event.type}, ${JSON.stringify(event)}::jsonb, ${new Date(event.occurredAt)})
        ON CONFLICT DO NOTHING`;
    } else {
      await tx.$executeRaw`INSERT INTO ${Prisma.raw(`"${schema}".saga_inbox`)} (event_id, type) VALUES (${event.eventId}, ${event.type}) ON CONFLICT DO NOTHING`;
    }
  }
}

function deadLetterHeaders(reason: string, detail: string, subject: string) {
  const h = headers();
  h.set('Dead-Letter-Reason', reason);
  h.set('Dead-Letter-Detail', detail.slice(0, 500));
  h.set('Original-Subject', subject);
  return h;
}
