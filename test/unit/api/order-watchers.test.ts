import { OrderWatchers, type WatchEvent } from '../../../api/order-watchers';

// One poller per watched order, shared by all its listeners (api/order-watchers.ts),
// with a fake read: how many reads, and what each listener is told.

type View = { status: string };
const INTERVAL = 20;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(statuses: (string | null | Error)[]) {
  const reads: string[] = [];
  let i = 0;
  const watchers = new OrderWatchers<View>({
    read: async (orderId) => {
      reads.push(orderId);
      const next = statuses[Math.min(i++, statuses.length - 1)];
      if (next instanceof Error) throw next;
      return next === null ? null : { status: next };
    },
    isFinal: (view) => view.status === 'COMPLETED',
    intervalMs: INTERVAL,
  });
  const listen = (orderId = 'ord_1') => {
    const events: WatchEvent<View>[] = [];
    const stop = watchers.subscribe(orderId, (e) => events.push(e));
    return { events, stop, statuses: () => events.flatMap((e) => (e.type === 'view' ? [e.view.status] : [e.type])) };
  };
  return { watchers, reads, listen };
}

it('reads a watched order once per interval however many listen, and tells each only of changes', async () => {
  const { watchers, reads, listen } = setup(['PENDING', 'PENDING', 'PENDING', 'CHARGING_PAYMENT', 'CHARGING_PAYMENT']);
  const first = listen();
  const others = Array.from({ length: 49 }, () => listen());
  await wait(INTERVAL * 8);
  expect(watchers.watched).toBe(1);
  // 8 intervals, give or take the timer's slack: nowhere near 50 listeners' worth.
  expect(reads.length).toBeGreaterThan(3);
  expect(reads.length).toBeLessThanOrEqual(10);
  expect(first.statuses()).toEqual(['PENDING', 'CHARGING_PAYMENT']);
  for (const other of others) expect(other.statuses()).toEqual(first.statuses());
  for (const l of [first, ...others]) l.stop();
  await wait(INTERVAL * 3);
  expect(watchers.watched).toBe(0);
});

it('gives a late listener the current view at once, with the id it was pushed with', async () => {
  const { listen } = setup(['PENDING']);
  const first = listen();
  await wait(INTERVAL * 2);
  const late = listen();
  expect(late.events).toEqual([first.events[0]]);
  first.stop();
  late.stop();
});

it('stops once the order can no longer change, and says so', async () => {
  const { watchers, reads, listen } = setup(['PENDING', 'COMPLETED']);
  const l = listen();
  await wait(INTERVAL * 6);
  expect(l.statuses()).toEqual(['PENDING', 'COMPLETED', 'end']);
  expect(reads).toHaveLength(2);
  expect(watchers.watched).toBe(0);
});

it('says when there is no such order', async () => {
  const { listen } = setup([null]);
  const l = listen();
  await wait(INTERVAL);
  expect(l.statuses()).toEqual(['gone']);
});

it('says once that the order cannot be read, backs off, and carries on when it can', async () => {
  const { reads, listen } = setup(['PENDING', new Error('down'), new Error('down'), 'CHARGING_PAYMENT']);
  const l = listen();
  await wait(INTERVAL * 12);
  l.stop();
  expect(l.statuses()).toEqual(['PENDING', 'unavailable', 'CHARGING_PAYMENT']);
  // Without the backoff, 12 intervals would have been about 12 reads.
  expect(reads.length).toBeLessThan(10);
});
