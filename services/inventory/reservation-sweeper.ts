import type { InventoryService } from './inventory-service';

/**
 * Runs InventoryService.expireReservations() on an interval, in the worker
 * process. Several workers may sweep at once: row locks keep it safe.
 */
export function startReservationSweeper(inventory: InventoryService, opts: { everyMs: number; log?: (msg: string) => void }): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = inventory.expireReservations().then(
      (orders) => orders.length > 0 && opts.log?.(`Released expired stock holds of ${orders.length} order(s): ${orders.join(', ')}`),
      (err) => opts.log?.(`Reservation sweep failed, will retry: ${err instanceof Error ? err.message : err}`),
    );
  }, opts.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
