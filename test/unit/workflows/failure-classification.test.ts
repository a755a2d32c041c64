import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure, type RetryState } from '@temporalio/common';
import { describeFailure, describeUndoFailure } from '../../../workflows/failure-classification';

// How the saga names the failure that stopped it, which decides how it ends:
// COMPENSATED for an expected ending, FAILED for an unexpected one.

/** An activity's failure as the workflow sees it: the last attempt's error is the cause. */
const activityFailed = (cause: Error, retryState: RetryState = 'NON_RETRYABLE_FAILURE', activityType = 'authorizePayment') =>
  new ActivityFailure('Activity task failed', activityType, '7', retryState, 'worker@host', cause);
const businessNo = (type: string | undefined, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
const transient = (message: string) => ApplicationFailure.create({ type: 'TransientError', message });
const cancelled = new CancelledFailure('Activity cancelled');

describe('describeFailure', () => {
  it('names a business refusal by its type, as an expected ending', () => {
    expect(describeFailure('authorizePayment', activityFailed(businessNo('card_declined', 'Card declined')), undefined)).toEqual({
      failure: { step: 'authorizePayment', reason: 'card_declined', message: 'Card declined' },
      unexpected: false,
    });
  });

  it('calls a refusal without a type "rejected"', () => {
    expect(describeFailure('reserveInventory', activityFailed(businessNo(undefined, 'No'), undefined, 'reserveInventory'), undefined)).toEqual({
      failure: { step: 'reserveInventory', reason: 'rejected', message: 'No' },
      unexpected: false,
    });
  });

  it('tells a customer cancellation and the order TTL from a cancelled workflow', () => {
    const viaActivity = activityFailed(cancelled, 'CANCEL_REQUESTED', 'createShipment');
    expect(describeFailure('createShipment', viaActivity, 'cancelled_by_customer')).toEqual({
      failure: { step: 'createShipment', reason: 'cancelled_by_customer', message: 'Cancelled by the customer' },
      unexpected: false,
    });
    expect(describeFailure('reserveInventory', cancelled, 'timed_out')).toEqual({
      failure: { step: 'reserveInventory', reason: 'timed_out', message: 'The order did not complete within its time to live' },
      unexpected: false,
    });
    expect(describeFailure('createOrder', cancelled, undefined)).toEqual({
      failure: { step: 'createOrder', reason: 'cancelled', message: 'The workflow was cancelled' },
      unexpected: false,
    });
  });

  it('does not take a business refusal for a cancellation because the saga was being stopped', () => {
    expect(describeFailure('authorizePayment', activityFailed(businessNo('card_declined', 'Card declined')), 'cancelled_by_customer').failure.reason).toBe(
      'card_declined',
    );
  });

  it('reads the carrier running out of its schedule-to-close timeout as the shipping SLA, expected', () => {
    const sla = activityFailed(new TimeoutFailure('timed out', undefined, 'SCHEDULE_TO_CLOSE'), 'TIMEOUT', 'createShipment');
    expect(describeFailure('createShipment', sla, undefined)).toEqual({
      failure: { step: 'createShipment', reason: 'shipping_timeout', message: 'No shipment could be created within the shipping SLA' },
      unexpected: false,
    });
  });

  it('reads retries cut short by the SLA (retry state TIMEOUT, last error transient) as the shipping SLA too', () => {
    const cutShort = activityFailed(transient('Carrier unavailable'), 'TIMEOUT', 'createShipment');
    expect(describeFailure('createShipment', cutShort, undefined)).toMatchObject({ failure: { reason: 'shipping_timeout' }, unexpected: false });
  });

  it('reads a timeout of any other step as unexpected', () => {
    const timeout = activityFailed(new TimeoutFailure('timed out', undefined, 'SCHEDULE_TO_CLOSE'), 'TIMEOUT', 'capturePayment');
    expect(describeFailure('capturePayment', timeout, undefined)).toEqual({
      failure: { step: 'capturePayment', reason: 'timeout', message: 'timed out' },
      unexpected: true,
    });
  });

  it('reads a forward step that ran out of retries as unexpected, with the last error', () => {
    const exhausted = activityFailed(transient('Provider unavailable'), 'MAXIMUM_ATTEMPTS_REACHED');
    expect(describeFailure('authorizePayment', exhausted, undefined)).toEqual({
      failure: { step: 'authorizePayment', reason: 'retries_exhausted', message: 'Provider unavailable' },
      unexpected: true,
    });
  });

  it('reads any other failure as an unexpected error', () => {
    expect(describeFailure('capturePayment', transient('Something broke'), undefined)).toEqual({
      failure: { step: 'capturePayment', reason: 'unexpected_error', message: 'Something broke' },
      unexpected: true,
    });
  });
});

describe('describeUndoFailure', () => {
  it('names a refused undo by the refusal type and message', () => {
    expect(
      describeUndoFailure({
        key: 'authorizePayment',
        error: activityFailed(businessNo('refund_rejected', 'Refund refused'), 'NON_RETRYABLE_FAILURE', 'reversePayment'),
      }),
    ).toEqual({
      step: 'authorizePayment',
      reason: 'refund_rejected',
      message: 'Refund refused',
    });
    expect(describeUndoFailure({ key: 'createShipment', error: businessNo(undefined, 'No') })).toEqual({
      step: 'createShipment',
      reason: 'rejected',
      message: 'No',
    });
  });

  it('calls anything else an unexpected error, whatever was thrown', () => {
    expect(describeUndoFailure({ key: 'reserveInventory', error: new Error('bug') })).toEqual({
      step: 'reserveInventory',
      reason: 'unexpected_error',
      message: 'bug',
    });
    expect(describeUndoFailure({ key: 'reserveInventory', error: 'a string' })).toEqual({
      step: 'reserveInventory',
      reason: 'unexpected_error',
      message: 'a string',
    });
  });
});
