// A NATS connection that tolerates a broker that is not there yet. The client
// reconnects by itself once it has connected, but a failed *first* connect is
// an error it hands back; here it is retried with backoff instead, so a worker
// started without a broker keeps running its sagas and catches up later.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { backoffMs, sleep } from './backoff';

export type Log = (message: string) => void;

export type NatsLink = {
  /** Resolves once NATS answers; never rejects (it waits for as long as it takes, or until close()). */
  connected: Promise<NatsConnection | undefined>;
  close(): Promise<void>;
};

export function connectWithRetry(url: string, opts: { name: string; log: Log; maxDelayMs?: number }): NatsLink {
  const stop = new AbortController();
  let nc: NatsConnection | undefined;

  const connected = (async () => {
    for (let failures = 0; !stop.signal.aborted; failures++) {
      try {
        nc = await connect({ servers: url, name: opts.name, timeout: 2000, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
        if (failures > 0) opts.log(`NATS at ${url} is reachable now: publishing the facts that waited in the outbox`);
        void reportStatus(nc, url, opts.log);
        return nc;
      } catch (err) {
        const wait = backoffMs(failures, { maxMs: opts.maxDelayMs ?? 30_000 });
        if (failures === 0) {
          opts.log(
            `NATS is not reachable at NATS_URL=${url} (${errorText(err)}). Orders still complete; their facts wait in the ` +
              'outbox and notifications will be sent once NATS is reachable. Retrying with backoff.',
          );
        } else {
          opts.log(`NATS still not reachable at ${url}; next attempt in ${Math.round(wait / 1000)} s`);
        }
        await sleep(wait, stop.signal);
      }
    }
    return undefined;
  })();

  return {
    connected,
    async close() {
      stop.abort();
      await connected;
      // drain() lets acks and publishes in flight finish before closing.
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}

async function reportStatus(nc: NatsConnection, url: string, log: Log): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') log(`lost the connection to NATS at ${url}; facts wait in the outbox until it is back`);
    if (s.type === 'reconnect') log(`reconnected to NATS at ${url}`);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
