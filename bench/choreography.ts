// The full checkout, choreographed (services/choreography/): the `api` row's
// POST /orders, to the same API as its own process, with `coordination:
// 'choreography'`. The services' reactions, the relay of their outboxes and the
// sweeper run in the bench's process, where the `api` row runs the Temporal
// worker, over a nats-server of the target's own: so the CPU columns split the
// same way (the bench's node process, the API, PostgreSQL), nats-server beside
// them in place of the Temporal server.
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createDb } from '../lib/db';
import { createWorkerMetrics } from '../lib/metrics';
import { startNatsServer } from '../scripts/nats-server';
import { createServices } from '../services';
import { choreographyReactions, ensureChoreography, runChoreography } from '../services/choreography/choreography';
import type { Reaction } from '../services/choreography/reaction';
import type { SagaEventType } from '../services/choreography/saga-events';
import { sagaStreamNames } from '../services/choreography/saga-stream';
import { DEFAULT_DEADLINES } from '../workflows/checkout-types';
import type { RunOne } from './load';
import { countryFor } from './saga';
import { startApi, type BenchDevServer } from './stack';
import type { Target } from './targets';
import { postOrderRequest } from './workload';

/** The events after which the order service closes the order (order-reactions.ts). */
const LAST_EVENTS: ReadonlySet<SagaEventType> = new Set<SagaEventType>(['InventoryCommitted', 'InventoryReleased']);

/**
 * The callers waiting for their order to end. No one polls: the order
 * service's reactions run in this process, and tell this once they have
 * handled an order's last event, by when the order is closed and committed.
 */
class OrderEnds {
  private readonly waiting = new Map<string, { resolve(): void; reject(err: Error): void }>();
  /** Ended before its caller waited: a POST answered later than the whole saga took, on a starved event loop. */
  private readonly early = new Set<string>();

  ended(orderId: string): void {
    const waiter = this.waiting.get(orderId);
    if (!waiter) return void this.early.add(orderId);
    this.waiting.delete(orderId);
    waiter.resolve();
  }

  wait(orderId: string): Promise<void> {
    if (this.early.delete(orderId)) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.set(orderId, { resolve, reject }));
  }

  /** A saga stuck past the level's grace minute must not keep its caller waiting after the target stopped. */
  abandon(why: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(why);
    this.waiting.clear();
  }
}

/** The reaction as it is, then a word to `ends` when the event was the order's last. */
function reportingEnds(reaction: Reaction, ends: OrderEnds): Reaction {
  return {
    ...reaction,
    async handle(event, attempt) {
      const decision = await reaction.handle(event, attempt);
      if (LAST_EVENTS.has(event.type)) ends.ended(event.orderId);
      return decision;
    },
  };
}

export async function choreographyTarget(opts: {
  /** Only for the API, which connects to Temporal at start as deployed; no choreographed order touches it. */
  server: BenchDevServer;
  dbUrl: string;
  pool: number;
  dataDir: string;
}): Promise<Target> {
  const log = (m: string) => process.stderr.write(`[choreography] ${m}\n`);
  const storeDir = mkdtempSync(path.join(opts.dataDir, 'nats-'));
  const cleanups: (() => Promise<unknown>)[] = [async () => rmSync(storeDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const c of [...cleanups].reverse()) await c().catch((err) => log(`stopping: ${err}`));
  };
  try {
    const nats = await startNatsServer({ storeDir });
    cleanups.push(nats.stop);
    const db = createDb(opts.dbUrl, opts.pool);
    cleanups.push(() => db.$disconnect());
    // The services as the `api` row's worker builds them (default settings).
    const services = createServices(db);
    const ends = new OrderEnds();
    const reactions = choreographyReactions(services, log).map((r) => (r.schema === 'orders' ? reportingEnds(r, ends) : r));
    // A fresh server: any stream name will do; these are the deployed defaults'.
    const names = sagaStreamNames('ORDERS');
    const nc = await connect({ servers: nats.url, name: 'checkout-bench' });
    await ensureChoreography(await jetstreamManager(nc), names, reactions);
    const stop = new AbortController();
    // Every loop (the relay, the sweeper, one consumer per reaction) listens for the stop, as in services/messaging.ts.
    setMaxListeners(64, stop.signal);
    // Counted as worker.ts counts them, as the `api` row's worker observes its activities.
    const metrics = createWorkerMetrics();
    const running = runChoreography(
      jetstream(nc),
      {
        db,
        services,
        databaseUrl: opts.dbUrl,
        names,
        log,
        // The sweeper's threshold as worker.ts sets it by default.
        stalledAfterSeconds: DEFAULT_DEADLINES.shippingSlaSeconds + 120,
        count: (consumer, outcome) => metrics.choreographyEvents.inc({ consumer, outcome }),
      },
      reactions,
      stop.signal,
    ).catch((err) => log(`the reactions stopped: ${err}`));
    // As services/messaging.ts stops them: the signal ends the loops, draining the connection ends their consumers.
    cleanups.push(async () => {
      ends.abandon(new Error('the choreography target stopped'));
      stop.abort();
      await nc.drain().catch(() => nc.close());
      await running;
    });
    const api = await startApi({ databaseUrl: opts.dbUrl, temporalAddress: opts.server.address, taskQueue: 'bench-choreography', poolSize: opts.pool });
    cleanups.push(api.stop);

    const checkout = async (country: string) => {
      const t0 = performance.now();
      const res = await fetch(`${api.url}/orders`, postOrderRequest({ postalCode: 'N1 9GU', country }, 'choreography'));
      const body = (await res.json()) as { orderId?: string; coordination?: string };
      const postMs = performance.now() - t0;
      if (res.status !== 202 || body.coordination !== 'choreography' || !body.orderId)
        throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(body)}`);
      await ends.wait(body.orderId);
      // One read by primary key, for the status it closed with (COMPLETED, COMPENSATED, or held for an operator).
      const order = await services.orders.orderFor(body.orderId);
      return { status: order?.status ?? 'MISSING', postMs };
    };
    // One saga through before the turn: started afresh for each turn, the target would otherwise spend its warm-up
    // loading the API's code and opening connections, which the targets that stay up did in their first turn.
    const first = await Promise.race([
      checkout('GB'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('its first saga did not end within 60 s')), 60_000).unref()),
    ]);
    if (first.status !== 'COMPLETED') throw new Error(`its first saga ended ${first.status}`);
    const runOne: RunOne = (n) => checkout(countryFor(n));
    return {
      runOne,
      watched: () => ({ 'api (node)': api.pid, 'nats-server': nats.pid }),
      stop: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
