import { createHash } from 'node:crypto';
import { sleep } from '../lib/backoff';

/** What a watcher tells its listeners. `id` names the view's content, so it is the same in every API process. */
export type WatchEvent<V> =
  | { type: 'view'; view: V; id: string }
  /** No such order: the listener answers 404 and stops. */
  | { type: 'gone' }
  /** A read failed (Temporal out of reach, say); the watcher tries again, more slowly. */
  | { type: 'unavailable'; error: unknown }
  /** The order will not change any more: the listener can close its stream. */
  | { type: 'end' };

export type Listener<V> = (event: WatchEvent<V>) => void;

export type WatchOptions<V> = {
  /** Reads the order; null when there is no such order. */
  read: (orderId: string) => Promise<V | null>;
  /** True once the view can no longer change (the saga has ended and its e-mail is stored). */
  isFinal: (view: V, watchedForMs: number) => boolean;
  /** Time between two reads of one order while someone watches it. */
  intervalMs: number;
};

type Watcher<V> = { listeners: Set<Listener<V>>; latest?: { view: V; id: string } };

/**
 * One poller per watched order, shared by everyone who watches it: however
 * many browsers have an order page open, its saga is queried once per
 * interval. The poller starts with the first listener, and stops when the
 * last one leaves or the order can no longer change. Only a change reaches
 * the listeners (the JSON of the view, compared by its hash).
 *
 * Polling, rather than the worker pushing: the saga's state lives in the
 * workflow, which may not do I/O, and a query is how it is read anywhere
 * else; a bounded rate per order is what keeps Temporal's load independent
 * of the number of viewers.
 */
export class OrderWatchers<V> {
  private readonly watchers = new Map<string, Watcher<V>>();

  constructor(private readonly options: WatchOptions<V>) {}

  /** Listens to an order's changes; the listener first gets its current view. Returns the function that stops listening. */
  subscribe(orderId: string, listener: Listener<V>): () => void {
    const existing = this.watchers.get(orderId);
    if (existing) {
      if (existing.latest) listener({ type: 'view', ...existing.latest });
      existing.listeners.add(listener);
      return () => void existing.listeners.delete(listener);
    }
    const watcher: Watcher<V> = { listeners: new Set([listener]) };
    this.watchers.set(orderId, watcher);
    void this.poll(orderId, watcher);
    return () => void watcher.listeners.delete(listener);
  }

  /** Orders being polled now: one each, whatever the number of listeners. */
  get watched(): number {
    return this.watchers.size;
  }

  private async poll(orderId: string, watcher: Watcher<V>): Promise<void> {
    const emit = (event: WatchEvent<V>) => {
      for (const listener of watcher.listeners) listener(event);
    };
    const since = Date.now();
    let failures = 0;
    try {
      while (watcher.listeners.size > 0) {
        try {
          const view = await this.options.read(orderId);
          if (view === null) {
            emit({ type: 'gone' });
            return;
          }
          failures = 0;
          const id = createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 22);
          if (id !== watcher.latest?.id) {
            watcher.latest = { view, id };
            emit({ type: 'view', view, id });
          }
          if (this.options.isFinal(view, Date.now() - since)) {
            emit({ type: 'end' });
            return;
          }
        } catch (error) {
          if (failures++ === 0) emit({ type: 'unavailable', error });
        }
        // After failures, 2, 4, 8… intervals, up to 16: an outage is not hammered by every watched order.
        await sleep(this.options.intervalMs * Math.min(2 ** failures, 16));
      }
    } finally {
      // Deleted in the same tick as the last check: a listener that arrives later starts a new poller.
      this.watchers.delete(orderId);
    }
  }
}
