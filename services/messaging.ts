// The worker's messaging: the order service's outbox relay and the notification
// service's consumer, over one NATS connection. Without a broker it waits (see
// lib/nats-connection.ts): sagas keep running and their facts wait in the outbox.
// It composes services, as services/index.ts does, so it lives with them: lib/
// is below the services and must not know them.
import { setMaxListeners } from 'node:events';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { backoffMs, sleep } from '../lib/backoff';
import type { Db } from '../lib/db';
import { connectWithRetry, errorText, type Log } from '../lib/nats-connection';
import { NotificationConsumer, ensureNotificationConsumer, NOTIFICATION_CONSUMER } from './notification/notification-consumer';
import { NotificationService } from './notification/notification-service';
import { ensureOrderStream, type OrderStreamNames } from './order/order-stream';
import { OutboxRelay } from './order/outbox-relay';
import { choreographyReactions, ensureChoreography, runChoreography, type ChoreographyOptions } from './choreography/choreography';

export type MessagingOptions = {
  db: Db;
  natsUrl: string;
  log: Log;
  names: OrderStreamNames;
  /** Longest wait between attempts to reach NATS. */
  retryMaxMs?: number;
  /** The choreographed checkout's reactions, relay and sweeper, when given (services/choreography/). */
  choreography?: Omit<ChoreographyOptions, 'db' | 'log'>;
};

export type Messaging = {
  /** Resolves once the stream and the consumer exist and both loops run. */
  ready: Promise<void>;
  stop(): Promise<void>;
};

export function startMessaging(opts: MessagingOptions): Messaging {
  const { names, choreography } = opts;
  const reactions = choreography ? choreographyReactions(choreography.services, opts.log) : [];
  const stop = new AbortController();
  // Every loop (relay, consumers, one per choreography reaction) listens for the stop.
  setMaxListeners(64, stop.signal);
  const link = connectWithRetry(opts.natsUrl, { name: 'checkout-worker', log: opts.log, maxDelayMs: opts.retryMaxMs });
  let loops: Promise<unknown> = Promise.resolve();

  const ready = (async () => {
    const nc = await link.connected;
    if (!nc) return;
    // A NATS without JetStream (started without -js) answers, but cannot hold
    // the stream; say so and keep trying, rather than fail the worker.
    for (let failures = 0; !stop.signal.aborted; failures++) {
      try {
        const jsm = await jetstreamManager(nc);
        await ensureOrderStream(jsm, names);
        await ensureNotificationConsumer(jsm, names, NOTIFICATION_CONSUMER);
        if (choreography) await ensureChoreography(jsm, choreography.names, reactions);
        break;
      } catch (err) {
        const wait = backoffMs(failures, { maxMs: 30_000 });
        opts.log(`JetStream not usable at ${opts.natsUrl} (${errorText(err)}); is nats-server running with -js? Retrying in ${Math.round(wait / 1000)} s`);
        await sleep(wait, stop.signal);
      }
    }
    if (stop.signal.aborted) return;
    const js = jetstream(nc);
    const relay = new OutboxRelay(opts.db, js, names);
    const consumer = new NotificationConsumer(new NotificationService(opts.db), opts.log);
    loops = Promise.all([
      relay.run(stop.signal, opts.log),
      consumer.run(js, names, stop.signal, NOTIFICATION_CONSUMER),
      choreography && runChoreography(js, { ...choreography, db: opts.db, log: opts.log }, reactions, stop.signal),
    ]);
    opts.log(
      `messaging: relaying order facts to JetStream stream ${names.stream} at ${opts.natsUrl}, consumer "${NOTIFICATION_CONSUMER}" sending notifications` +
        (choreography ? `; choreographed checkouts on ${choreography.names.stream} (${reactions.length} reactions)` : ''),
    );
  })();

  return {
    ready,
    async stop() {
      stop.abort();
      await link.close().catch(() => undefined);
      await ready;
      await loops;
    },
  };
}
