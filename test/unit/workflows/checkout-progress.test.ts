import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { CheckoutProgress, type StatusChange } from '../../../workflows/checkout-progress';
import { STEPS, type StepName, type StepStatus } from '../../../workflows/checkout-types';

// What the status query reports, and which status changes reach the workflow
// (which logs them and writes the OrderStatus search attribute).

function progress() {
  const changes: StatusChange[] = [];
  return { progress: new CheckoutProgress('ord_1', (change) => changes.push(change)), changes };
}
const statusOf = (p: CheckoutProgress, ...names: StepName[]) => names.map((n) => p.stepStatus(n));
/** The failure an activity's last attempt ends the step with: its attempt rides in the details (activities/to-temporal.ts). */
const activityFailure = (attempt: number) =>
  new ActivityFailure(
    'activity failed',
    'authorizePayment',
    '1',
    'NON_RETRYABLE_FAILURE',
    undefined,
    ApplicationFailure.create({ message: 'Card declined', type: 'card_declined', nonRetryable: true, details: [{ attempt }] }),
  );

describe('CheckoutProgress', () => {
  it('starts PENDING with every step pending', () => {
    const { progress: p, changes } = progress();
    expect(p.snapshot()).toEqual({
      orderId: 'ord_1',
      status: 'PENDING',
      total: null,
      currency: 'USD',
      steps: STEPS.map((name) => ({ name, status: 'pending', attempts: 0 })),
    });
    expect(p.isTerminal).toBe(false);
    expect(changes).toEqual([]);
  });

  it('reports each change of status once, with the status it left', () => {
    const { progress: p, changes } = progress();
    p.status = 'PENDING';
    p.status = 'CHECKING_FRAUD';
    p.status = 'CHECKING_FRAUD';
    p.status = 'COMPLETED';
    expect(changes).toEqual([
      { from: 'PENDING', status: 'CHECKING_FRAUD' },
      { from: 'CHECKING_FRAUD', status: 'COMPLETED' },
    ]);
    expect(p.isTerminal).toBe(true);
  });

  it('reports the failure with the changes that follow it', () => {
    const { progress: p, changes } = progress();
    p.failure = { step: 'authorizePayment', reason: 'card_declined', message: 'Card declined' };
    p.status = 'COMPENSATING';
    expect(changes).toEqual([{ from: 'PENDING', status: 'COMPENSATING', failure: p.failure }]);
  });

  it('runs a step: sets its status first, then records the attempt it completed on', async () => {
    const { progress: p } = progress();
    const result = await p.run('reserveInventory', 'RESERVING_INVENTORY', async () => {
      // While the activity runs, the query sees the step running.
      expect(p.status).toBe('RESERVING_INVENTORY');
      expect(p.stepStatus('reserveInventory')).toBe('running');
      expect(p.currentStep).toBe('reserveInventory');
      return { reservation: 'r1', attempt: 3 };
    });
    expect(result).toEqual({ reservation: 'r1', attempt: 3 });
    expect(p.snapshot().steps.find((s) => s.name === 'reserveInventory')).toEqual({ name: 'reserveInventory', status: 'completed', attempts: 3 });
  });

  it('marks a step that throws as failed, with the attempt found in the failure, and rethrows it', async () => {
    const { progress: p } = progress();
    const failure = activityFailure(2);
    await expect(p.run('authorizePayment', 'CHARGING_PAYMENT', () => Promise.reject(failure))).rejects.toBe(failure);
    expect(p.snapshot().steps.find((s) => s.name === 'authorizePayment')).toEqual({ name: 'authorizePayment', status: 'failed', attempts: 2 });
    expect(p.currentStep).toBe('authorizePayment');
  });

  it('leaves the attempts alone when a failure does not say', async () => {
    const { progress: p } = progress();
    await expect(p.run('createOrder', 'PENDING', () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    expect(p.snapshot().steps[0]).toEqual({ name: 'createOrder', status: 'failed', attempts: 0 });
  });

  it('names createOrder as the current step before any step ran', () => {
    expect(progress().progress.currentStep).toBe('createOrder');
  });

  it('marks a skipped step', () => {
    const { progress: p } = progress();
    p.skip('checkFraud');
    expect(p.stepStatus('checkFraud')).toBe('skipped');
  });

  describe('undoing', () => {
    async function completed(...names: StepName[]) {
      const { progress: p } = progress();
      for (const name of names) await p.run(name, 'PENDING', async () => ({ attempt: 1 }));
      return p;
    }

    it('takes a completed step through compensating to compensated', async () => {
      const p = await completed('reserveInventory');
      p.compensating('reserveInventory');
      expect(p.stepStatus('reserveInventory')).toBe('compensating');
      p.compensated('reserveInventory');
      expect(p.stepStatus('reserveInventory')).toBe('compensated');
    });

    it('leaves the step that failed "failed" while its undo runs (its outcome was unknown)', async () => {
      const { progress: p } = progress();
      await p.run('authorizePayment', 'CHARGING_PAYMENT', () => Promise.reject(activityFailure(1))).catch(() => undefined);
      p.compensating('authorizePayment');
      p.compensated('authorizePayment');
      expect(p.stepStatus('authorizePayment')).toBe('failed');
    });

    it('leaves a step that never ran pending', () => {
      const { progress: p } = progress();
      p.compensating('createShipment');
      p.compensated('createShipment');
      expect(p.stepStatus('createShipment')).toBe('pending');
    });

    it('marks a refused undo compensation_failed, and a retry that succeeds compensated', async () => {
      const p = await completed('reserveInventory', 'authorizePayment');
      p.compensating('authorizePayment');
      p.compensated('authorizePayment', new Error('refund refused'));
      p.compensating('reserveInventory');
      p.compensated('reserveInventory');
      expect(statusOf(p, 'authorizePayment', 'reserveInventory')).toEqual<StepStatus[]>(['compensation_failed', 'compensated']);

      p.compensating('authorizePayment');
      expect(p.stepStatus('authorizePayment')).toBe('compensating');
      p.compensated('authorizePayment');
      expect(p.stepStatus('authorizePayment')).toBe('compensated');
    });

    it('closes the order record as its last undo: createOrder ends compensated', async () => {
      const p = await completed('createOrder');
      p.compensated('createOrder');
      expect(p.stepStatus('createOrder')).toBe('compensated');
    });
  });

  it('reports what the saga learnt along the way: total, tracking number, failed undos and resolutions', () => {
    const { progress: p } = progress();
    p.total = 4200;
    p.currency = 'EUR';
    p.trackingNumber = null;
    p.failure = { step: 'createShipment', reason: 'address_rejected', message: 'No' };
    p.failedCompensations = [{ step: 'authorizePayment', reason: 'refund_rejected', message: 'Refused' }];
    p.resolved({ action: 'retry', note: 'try again' }, new Date('2026-11-30T12:00:00Z'));
    expect(p.snapshot()).toMatchObject({
      total: 4200,
      currency: 'EUR',
      trackingNumber: null,
      failure: p.failure,
      failedCompensations: p.failedCompensations,
      resolutions: [{ action: 'retry', note: 'try again', at: '2026-11-30T12:00:00.000Z' }],
    });
  });

  it('hands out snapshots that later changes do not alter', async () => {
    const { progress: p } = progress();
    const before = p.snapshot();
    await p.run('createOrder', 'PENDING', async () => ({ attempt: 1 }));
    p.resolved({ action: 'mark-resolved', note: 'done' }, new Date());
    expect(before.steps[0].status).toBe('pending');
    expect(before).not.toHaveProperty('resolutions');
  });

  it('reports the deadlines it is told of, running until stopped or expired', () => {
    const { progress: p } = progress();
    p.startTimer('orderTtl', Date.parse('2026-11-30T12:15:00Z'));
    p.startTimer('paymentHold', '2026-11-30T12:10:00.000Z');
    // A renewed hold: the same timer with a later end.
    p.startTimer('paymentHold', new Date('2026-11-30T12:20:00Z'));
    p.stopTimer('orderTtl', 'expired');
    p.stopTimer('orderTtl');
    p.stopTimer('shippingSla');
    expect(p.snapshot().timers).toEqual([
      { name: 'orderTtl', endsAt: '2026-11-30T12:15:00.000Z', status: 'expired' },
      { name: 'paymentHold', endsAt: '2026-11-30T12:20:00.000Z', status: 'running' },
    ]);
  });

  it('shows the compensation stack with the activity that undoes each step', () => {
    const undos = {
      view: () => [
        { key: 'reserveInventory' as const, status: 'undone' as const },
        { key: 'authorizePayment' as const, status: 'registered' as const },
      ],
    };
    const p = new CheckoutProgress('ord_1', () => undefined, undos);
    expect(p.snapshot().compensations).toEqual([
      { step: 'reserveInventory', undo: 'releaseInventory', status: 'undone' },
      { step: 'authorizePayment', undo: 'reversePayment', status: 'registered' },
    ]);
  });
});
