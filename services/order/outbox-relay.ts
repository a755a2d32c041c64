// Publishes the order service's outbox to JetStream, at least once.
//
// A batch of unpublished rows is locked with FOR UPDATE SKIP LOCKED, so relays
// in several workers share the work instead of publishing the same rows; each
// row is published with its id as Nats-Msg-Id, and marked published only after
// JetStream acknowledged it, in the transaction that holds the lock. A relay
// that dies between the ack and the commit leaves the rows unmarked: the next
// relay publishes them again, and JetStream drops the copies as duplicates of
// the message id (the consumer's inbox catches any that outlive the window).
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Db } from '../../lib/db';
import { backoffMs, sleep } from '../../lib/backoff';
import { errorText, type Log } from '../../lib/nats-connection';
import type { OrderEventType } from './order-events';
import { subjectFor, type OrderStreamNames } from './order-stream';

export type RelayOptions = {
  batchSize?: number;
  /** How often to look for new facts when the outbox is empty. */
  pollMs?: number;
  publishTimeoutMs?: number;
  /** Test seam: runs after JetStream acknowledged a batch and before it is marked. */
  afterPublish?: (eventIds: string[]) => void | Promise<void>;
};

export type RelayResult = { published: number; duplicates: number };

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly publishTimeoutMs: number;

  constructor(
    private readonly db: Db,
    private readonly js: JetStreamClient,
    private readonly names: OrderStreamNames,
    private readonly opts: RelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 50;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 5000;
  }

  /** Publishes and marks one batch. Throws, marking nothing, when JetStream does not acknowledge. */
  async relayOnce(): Promise<RelayResult> {
    return this.db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<{ id: string; type: string; payload: unknown }[]>`
          SELECT id, type, payload FROM orders.outbox
          WHERE published_at IS NULL
          ORDER BY created_at, id
          LIMIT ${this.batchSize}
          FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return { published: 0, duplicates: 0 };
        const ids = rows.map((r) => r.id);

        // Facts of different orders are independent, so they go out concurrently;
        // a consumer must not depend on their order anyway.
        const acks = await Promise.all(
          rows.map((row) =>
            this.js.publish(subjectFor(this.names, row.type as OrderEventType), JSON.stringify(row.payload), {
              msgID: row.id,
              timeout: this.publishTimeoutMs,
            }),
          ),
        );
        await this.opts.afterPublish?.(ids);
        await tx.outboxEvent.updateMany({ where: { id: { in: ids } }, data: { publishedAt: new Date() } });
        return { published: rows.length, duplicates: acks.filter((a) => a.duplicate).length };
      },
      // Holds the row locks while waiting for JetStream's acks.
      { timeout: this.publishTimeoutMs * 2 + 10_000 },
    );
  }

  /** Relays until the signal aborts; failures (NATS gone, JetStream slow) back off and retry. */
  async run(signal: AbortSignal, log: Log): Promise<void> {
    const pollMs = this.opts.pollMs ?? 500;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const { published } = await this.relayOnce();
        if (failures > 0) log('outbox relay: publishing again');
        failures = 0;
        if (published < this.batchSize) await sleep(pollMs, signal);
      } catch (err) {
        const wait = backoffMs(failures++, { baseMs: pollMs });
        log(`outbox relay: could not publish (${errorText(err)}); the facts stay in the outbox, retrying in ${Math.round(wait / 100) / 10} s`);
        await sleep(wait, signal);
      }
    }
  }
}
