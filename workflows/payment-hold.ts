import { CancellationScope, sleep } from '@temporalio/workflow';

/** When an authorization's hold ends; activity results are JSON, so a date arrives as an ISO string. */
type Hold = { expiresAt: Date | string | null };

/**
 * Keeps the payment authorization alive while `work` runs (the carrier):
 * whenever only half of the hold is left, `renew(n)` extends it, so a renewal
 * slowed down by retries still lands before the hold expires. If renewing
 * fails, the capture finds the hold expired and the saga compensates.
 */
export async function whileRenewingHold<T>(
  hold: Hold & { holdSeconds: number },
  renew: (n: number) => Promise<Hold>,
  work: () => Promise<T>,
  /** Told each new expiry, for the status query. Called in line: an extra await here would reorder the saga's commands. */
  onRenewed: (expiresAt: Date) => void = () => undefined,
): Promise<T> {
  const halfHoldMs = hold.holdSeconds * 500;
  const renewals = new CancellationScope();
  renewals
    .run(async () => {
      let expiresAt = new Date(hold.expiresAt ?? Date.now()).getTime();
      for (let n = 1; ; n++) {
        await sleep(Math.max(expiresAt - halfHoldMs - Date.now(), 1));
        const renewed = await renew(n);
        expiresAt = new Date(renewed.expiresAt ?? Date.now()).getTime();
        onRenewed(new Date(expiresAt));
      }
    })
    // Cancelled when the shipment exists; a failed renewal is left to the capture.
    .catch(() => undefined);
  try {
    return await work();
  } finally {
    renewals.cancel();
  }
}
