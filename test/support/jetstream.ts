import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { OrderStreamNames } from '../../services/order/order-stream';

/**
 * A connection to the run's private nats-server (global-setup.ts), and stream
 * names no other test uses: test files share the server, never a stream.
 */
export function useJetStream() {
  const ctx = {} as { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager; url: string };
  const created: string[] = [];
  beforeAll(async () => {
    ctx.url = process.env.NATS_URL!;
    ctx.nc = await connect({ servers: ctx.url });
    ctx.js = jetstream(ctx.nc);
    ctx.jsm = await jetstreamManager(ctx.nc);
  });
  afterAll(async () => {
    for (const stream of created) await ctx.jsm?.streams.delete(stream).catch(() => undefined);
    await ctx.nc?.close();
  });
  return Object.assign(ctx, {
    freshNames(): OrderStreamNames {
      const tag = randomBytes(4).toString('hex');
      const names = { stream: `ORDERS_${tag}`, subjectPrefix: `t${tag}.orders` };
      created.push(names.stream);
      return names;
    },
  });
}

/** Polls until `check` returns true; generous, since the machine's two cores are shared. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
