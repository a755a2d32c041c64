// The payment service in the choreographed checkout: it authorizes once stock
// is reserved, keeps the hold alive with a timer of its own, captures once the
// shipment exists, and reverses (void or refund) after the shipment is undone.
import { reaction } from '../choreography/reaction';
import { eventId } from '../choreography/saga-events';
import { forwardStep, undoStep } from '../choreography/step-outcome';
import type { PaymentService } from './payment-service';

export function paymentReactions(payments: PaymentService) {
  const key = (orderId: string, step: string) => `${orderId}:${step}`;
  /** When to renew a hold: with half of it left, as the orchestrated saga does (workflows/payment-hold.ts). */
  const renewalAt = (expiresAt: Date, holdSeconds: number) => new Date(Math.max(expiresAt.getTime() - holdSeconds * 500, Date.now()));
  return [
    reaction({
      name: 'payment-authorize',
      schema: 'payments',
      on: 'InventoryReserved',
      handle: async (reserved, attempt) => {
        const { orderId, order } = reserved;
        const holdSeconds = order.deadlines.paymentHoldSeconds;
        let expiresAt: Date | null = null;
        const decision = await forwardStep(reserved, 'authorizePayment', attempt, async () => {
          // A retry after a lost response finds the first authorization by the order (see PaymentService.authorize).
          const payment = await payments.authorize(
            { orderId, token: order.paymentToken, amount: order.total, currency: order.currency, holdSeconds },
            key(orderId, 'authorizePayment'),
          );
          expiresAt = payment.expiresAt;
          return [{ type: 'PaymentAuthorized', eventId: eventId(orderId, 'PaymentAuthorized'), attempt, expiresAt: payment.expiresAt?.toISOString() ?? null }];
        });
        const heldUntil = expiresAt as Date | null;
        if (!heldUntil) return decision;
        // The hold-renewal timer: a durable event in this service's outbox, published when due.
        return {
          ...decision,
          schedule: [
            {
              event: { type: 'PaymentHoldRenewalDue', eventId: eventId(orderId, 'PaymentHoldRenewalDue', 1), attempt: 1, renewal: 1 },
              at: renewalAt(heldUntil, holdSeconds),
            },
          ],
        };
      },
    }),
    reaction({
      name: 'payment-renew-hold',
      schema: 'payments',
      on: 'PaymentHoldRenewalDue',
      handle: async (due) => {
        const { orderId, renewal } = due;
        // Only a live hold is renewed: once captured or reversed, the timer has nothing left to keep alive.
        const payment = await payments.paymentFor(orderId);
        if (payment?.status !== 'AUTHORIZED') return {};
        try {
          const renewed = await payments.renew(orderId, key(orderId, `renewPaymentHold-${renewal}`));
          const next = renewal + 1;
          return {
            schedule: [
              {
                event: { type: 'PaymentHoldRenewalDue', eventId: eventId(orderId, 'PaymentHoldRenewalDue', next), attempt: 1, renewal: next },
                at: renewalAt(renewed.expiresAt!, due.order.deadlines.paymentHoldSeconds),
              },
            ],
          };
        } catch {
          // Expired, or no longer held: the capture will find out and the saga compensates.
          return {};
        }
      },
    }),
    reaction({
      name: 'payment-capture',
      schema: 'payments',
      on: 'ShipmentCreated',
      handle: (shipped, attempt) =>
        forwardStep(shipped, 'capturePayment', attempt, async () => {
          await payments.capture(shipped.orderId, key(shipped.orderId, 'capturePayment'));
          return [{ type: 'PaymentCaptured', eventId: eventId(shipped.orderId, 'PaymentCaptured'), attempt }];
        }),
    }),
    ...(['ShipmentCancelled', 'UndoRetryRequested'] as const).map((on) =>
      reaction({
        name: on === 'ShipmentCancelled' ? 'payment-reverse' : 'payment-reverse-again',
        schema: 'payments',
        on,
        // Voids a hold or refunds a capture; before any authorization it leaves a tombstone that fences off a late one.
        handle: (cancelled, attempt) =>
          undoStep(cancelled, 'authorizePayment', 'PaymentReversed', attempt, () =>
            payments.reverse(cancelled.orderId, key(cancelled.orderId, 'reversePayment')),
          ),
      }),
    ),
  ];
}
