// Each service's transactional outbox for the choreographed checkout, and the
// relay that publishes it to JetStream. The same pattern as the order facts'
// outbox (services/order/outbox-relay.ts), for five schemas: a service writes
// the events it publishes in the transaction that records what it reacted to,
// and only the relay talks to NATS.
import type { JetStreamClient } from '@nats-io/jetstream';
import { Client } from 'pg';
import { Prisma } from '../../generated/prisma/client';
import { backoffMs, sleep } from '../../lib/backoff';
import type { Db } from '../../lib/db';
import { errorText, type Log } from '../../lib/nats-connection';
import type { NewSagaEvent, OrderFacts, SagaEvent } from './saga-events';
import { sagaSubject, type SagaStreamNames } from './saga-stream';

/** The schemas that take part, each with its own `saga_outbox`. */
export type SagaSchema = 'orders' | 'fraud' | 'inventory' | 'payments' | 'shipping';
export const SAGA_SCHEMAS: readonly SagaSchema[] = ['orders', 'fraud', 'inventory', 'payments', 'shipping'];

type Tx = Pick<Db, '$executeRaw'>;

/** The whole event, as stored and published, from what a reaction decided and the order it is about. */
export function completeEvent(orderId: string, order: OrderFacts, event: NewSagaEvent, now = new Date()): SagaEvent {
  return { ...event, version: 1, orderId, order, occurredAt: now.toISOString() } as SagaEvent;
}

/**
 * Writes events to a service's outbox, inside the caller's transaction. An id
 * that is there already is a replay and writes nothing. `deliverAt` in the
 * future makes the row a durable timer: the relay publishes it then.
 */
export async function writeToOutbox(tx: Tx, schema: SagaSchema, events: readonly SagaEvent[], deliverAt?: Date): Promise<void> {
  if (events.length === 0) return;
  const table = Prisma.raw(`"${schema}".saga_outbox`);
  await tx.$executeRaw`
    INSERT INTO ${table} (id, order_id, type, payload, deliver_at)
    SELECT e->>'eventId', e->>'orderId', e->>'type', e, ${deliverAt ?? new Date()}
    FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) AS e
    ON CONFLICT (id) DO NOTHING`;
}

/**
 * Publishes every schema's due outbox rows, at least once, with the event id
 * as Nats-Msg-Id; rows are locked FOR UPDATE SKIP LOCKED, so the relays of
 * several workers share the work. It wakes on the outbox trigger's
 * notification, and polls for timers coming due.
 */
export class SagaOutboxRelay {
  private wake: () => void = () => undefined;
  /** The outboxes a notification said have new rows; each poll looks at all of them. */
  private readonly pending = new Set<SagaSchema>(SAGA_SCHEMAS);

  constructor(
    private readonly db: Db,
    private readonly js: JetStreamClient,
    private readonly names: SagaStreamNames,
    private readonly opts: { databaseUrl: string; pollMs?: number; batchSize?: number },
  ) {}

  /** Publishes one batch of one schema's due rows; returns how many. */
  async relayOnce(schema: SagaSchema): Promise<number> {
    const table = Prisma.raw(`"${schema}".saga_outbox`);
    return this.db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<{ id: string; type: string; payload: unknown }[]>`
          SELECT id, type, payload FROM ${table}
          WHERE published_at IS NULL AND deliver_at <= now()
          ORDER BY deliver_at, id
          LIMIT ${this.opts.batchSize ?? 100}
          FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return 0;
        await Promise.all(rows.map((row) => this.js.publish(sagaSubject(this.names, row.type), JSON.stringify(row.payload), { msgID: row.id, timeout: 5000 })));
        await tx.$executeRaw`UPDATE ${table} SET published_at = now() WHERE id = ANY(${rows.map((r) => r.id)}::text[])`;
        return rows.length;
      },
      { timeout: 20_000 },
    );
  }

  /**
   * Each outbox's earliest unpublished row, in one statement: the outboxes due
   * now, and when the next timer comes due.
   */
  private async scan(): Promise<{ due: SagaSchema[]; nextAt: number | null }> {
    const rows = await this.db.$queryRaw<{ schema: SagaSchema; at: Date | null }[]>(
      Prisma.sql([
        SAGA_SCHEMAS.map((schema) => `SELECT '${schema}' AS schema, min(deliver_at) AS at FROM "${schema}".saga_outbox WHERE published_at IS NULL`).join(
          ' UNION ALL ',
        ),
      ]),
    );
    const now = Date.now();
    const due = rows.filter((r) => r.at && r.at.getTime() <= now).map((r) => r.schema);
    const later = rows.map((r) => r.at?.getTime() ?? Number.POSITIVE_INFINITY).filter((at) => at > now);
    return { due, nextAt: later.length > 0 ? Math.min(...later) : null };
  }

  /** Relays until the signal aborts. */
  async run(signal: AbortSignal, log: Log): Promise<void> {
    const listener = this.listen(signal, log);
    const pollMs = this.opts.pollMs ?? 1000;
    let failures = 0;
    while (!signal.aborted) {
      // Only the outboxes that said they have rows: a hop of the saga costs one relay transaction, not five.
      const schemas = [...this.pending];
      this.pending.clear();
      let nextAt: number | null = null;
      try {
        let published = 0;
        for (const schema of schemas) {
          const n = await this.relayOnce(schema);
          // A full batch may have left more behind.
          if (n === (this.opts.batchSize ?? 100)) this.pending.add(schema);
          published += n;
        }
        if (published > 0 || this.pending.size > 0) continue;
        // Timers that came due, rows whose notification was lost, and when the next timer is due.
        const scanned = await this.scan();
        for (const schema of scanned.due) this.pending.add(schema);
        if (this.pending.size > 0) continue;
        nextAt = scanned.nextAt;
        failures = 0;
      } catch (err) {
        log(`saga outbox relay: could not publish (${errorText(err)}); the events stay in the outboxes`);
        for (const schema of schemas) this.pending.add(schema);
        await sleep(backoffMs(failures++), signal);
        continue;
      }
      // Until a notification, the next timer, or the poll (one cheap statement a second when idle).
      const waitMs = Math.max(0, Math.min(pollMs, (nextAt ?? Number.POSITIVE_INFINITY) - Date.now()));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = () => undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    await listener;
  }

  /** LISTEN saga_outbox on a connection of its own, reconnecting when it drops. */
  private async listen(signal: AbortSignal, log: Log): Promise<void> {
    for (let failures = 0; !signal.aborted; failures++) {
      const client = new Client({ connectionString: this.opts.databaseUrl });
      try {
        const closed = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        client.on('notification', ({ payload }) => {
          const schema = SAGA_SCHEMAS.find((s) => s === payload);
          if (schema) this.pending.add(schema);
          this.wake();
        });
        await client.connect();
        await client.query('LISTEN saga_outbox');
        failures = 0;
        // A notification may have been missed while we were not listening.
        for (const schema of SAGA_SCHEMAS) this.pending.add(schema);
        this.wake();
        await closed;
      } catch (err) {
        if (!signal.aborted) log(`saga outbox relay: LISTEN failed (${errorText(err)}); polling until it is back`);
      } finally {
        await client.end().catch(() => undefined);
      }
      await sleep(backoffMs(failures), signal);
    }
  }
}
