// The benchmark's 5-step checkout (defined in bench/README.md), written once
// and run by every engine: in-process, Temporal (inside the workflow sandbox,
// so this file must stay pure: no I/O, no imports with side effects), DBOS and
// Restate. Each engine supplies `call`, which runs one step durably its way.
//
//   1. createOrder  2. reserveInventory  3. chargePayment (authorize + capture)
//   4. createShipment  5. completeOrder (commit the reservation, close the order)
//
// Every 10th order ships to country XX, which the carrier rejects for good
// (`address_rejected`): the compensations then run in reverse (refund,
// release) and the order is closed COMPENSATED.

export type BenchInput = { orderId: string; country: string };
export type BenchResult = { orderId: string; status: 'COMPLETED' | 'COMPENSATED'; failedStep?: string };

export const FORWARD_STEPS = ['createOrder', 'reserveInventory', 'chargePayment', 'createShipment', 'completeOrder'] as const;
export const UNDO_STEPS = ['refundPayment', 'releaseInventory', 'closeOrderCompensated'] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];
export type UndoStep = (typeof UNDO_STEPS)[number];
export type BenchStep = ForwardStep | UndoStep;
export type StepCall = (step: BenchStep, input: BenchInput & { failedStep?: string; reason?: string }) => Promise<unknown>;

/** Country for the n-th order of a run (0-based): every 10th one is rejected by the carrier. */
export const countryFor = (n: number) => (n % 10 === 9 ? 'XX' : 'GB');

export async function runBenchSaga(input: BenchInput, call: StepCall): Promise<BenchResult> {
  const undo: UndoStep[] = [];
  let current: ForwardStep = 'createOrder';
  try {
    current = 'createOrder';
    await call('createOrder', input);
    // A compensation is owed as soon as its step may have happened.
    undo.push('releaseInventory');
    current = 'reserveInventory';
    await call('reserveInventory', input);
    undo.push('refundPayment');
    current = 'chargePayment';
    await call('chargePayment', input);
    current = 'createShipment';
    await call('createShipment', input);
    current = 'completeOrder';
    await call('completeOrder', input);
    return { orderId: input.orderId, status: 'COMPLETED' };
  } catch (err) {
    // Step 5 cannot be undone (the order has shipped): a failure there is an error, not a compensation.
    if (current === 'completeOrder' || current === 'createOrder') throw err;
    for (const step of undo.reverse()) await call(step, input);
    await call('closeOrderCompensated', { ...input, failedStep: current, reason: reasonOf(err) });
    return { orderId: input.orderId, status: 'COMPENSATED', failedStep: current };
  }
}

/** The failure's reason code (e.g. `address_rejected`), however the engine carried it. */
function reasonOf(err: unknown): string {
  const e = err as { type?: unknown; code?: unknown; message?: unknown; cause?: { type?: unknown } } | undefined;
  for (const candidate of [e?.cause?.type, e?.type, e?.code, e?.message]) {
    if (typeof candidate === 'string' && /^[a-z][a-z0-9_]*$/.test(candidate)) return candidate;
  }
  return 'rejected';
}
