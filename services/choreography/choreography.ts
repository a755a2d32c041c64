// The choreographed checkout, wired: every service's reactions, the relay of
// their outboxes, and the sweeper. It runs in every worker process beside the
// orchestrated saga's worker; several processes share the work, as they share
// the order facts' relay (docs/choreography.md, "Running it").
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { sleep } from '../../lib/backoff';
import type { Db } from '../../lib/db';
import { errorText, type Log } from '../../lib/nats-connection';
import { fraudReactions } from '../fraud/fraud-reactions';
import type { Services } from '../index';
import { inventoryReactions } from '../inventory/inventory-reactions';
import { orderReactions } from '../order/order-reactions';
import { SagaSweeper } from '../order/saga-sweeper';
import { paymentReactions } from '../payment/payment-reactions';
import { shippingReactions } from '../shipping/shipping-reactions';
import type { Reaction } from './reaction';
import { SagaOutboxRelay } from './saga-outbox';
import { SagaReactor, type ReactorOutcome } from './saga-reactor';
import { ensureSagaConsumer, ensureSagaStreams, sagaSubject, type SagaStreamNames } from './saga-stream';

export type ChoreographyOptions = {
  db: Db;
  services: Services;
  databaseUrl: string;
  names: SagaStreamNames;
  log: Log;
  /** An open order with no event for this long is stalled (the sweeper's threshold). */
  stalledAfterSeconds: number;
  count?: (consumer: string, outcome: ReactorOutcome) => void;
};

export function choreographyReactions(services: Services, log: Log): Reaction[] {
  return [
    ...orderReactions(services.orders, log),
    ...fraudReactions(services.fraud),
    ...inventoryReactions(services.inventory),
    ...paymentReactions(services.payments),
    ...shippingReactions(services.shipping),
  ];
}

/** Creates the streams and one durable consumer per reaction; safe to run in any number of processes at once. */
export async function ensureChoreography(jsm: JetStreamManager, names: SagaStreamNames, reactions: readonly Reaction[]): Promise<void> {
  await ensureSagaStreams(jsm, names);
  for (const r of reactions) await ensureSagaConsumer(jsm, names, r.name, r.on === '*' ? `${names.subjectPrefix}.>` : sagaSubject(names, r.on));
}

/** Runs the reactions, the relay and the sweeper until the signal aborts. */
export async function runChoreography(js: JetStreamClient, opts: ChoreographyOptions, reactions: readonly Reaction[], signal: AbortSignal): Promise<void> {
  const reactor = new SagaReactor(opts.db, js, opts.names, opts.log, opts.count);
  const relay = new SagaOutboxRelay(opts.db, js, opts.names, { databaseUrl: opts.databaseUrl });
  const sweeper = new SagaSweeper(opts.db, opts.services.orders, opts.stalledAfterSeconds);
  await Promise.all([
    relay.run(signal, opts.log),
    ...reactions.map((r) => reactor.run(r, signal)),
    (async () => {
      const everyMs = Math.min(opts.stalledAfterSeconds * 250, 30_000);
      while (!signal.aborted) {
        await sleep(everyMs, signal);
        if (signal.aborted) break;
        try {
          const { stopped, heldForOperator } = await sweeper.sweepOnce();
          if (stopped.length + heldForOperator.length > 0)
            opts.log(`saga sweeper: stopped ${stopped.length} stalled orders, held ${heldForOperator.length} for an operator`);
        } catch (err) {
          opts.log(`saga sweeper: ${errorText(err)}`);
        }
      }
    })(),
  ]);
}
