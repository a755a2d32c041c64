// The e-mail a customer gets when their order ends. Mock delivery: the
// "sent" message is stored, not mailed, so the address is derived too.
import type { OrderClosedFact } from '../order/order-events';

export type Email = { to: string; subject: string; body: string };

export function customerEmail(customerId: string): string {
  return `${customerId}@example.com`;
}

export function orderEmail(fact: OrderClosedFact): Email {
  const amount = `${(fact.total / 100).toFixed(2)} ${fact.currency}`;
  const why = fact.failure ? ` (${fact.failure.reason.replaceAll('_', ' ')})` : '';
  const content: Record<OrderClosedFact['type'], { subject: string; body: string }> = {
    OrderCompleted: {
      subject: `Your order ${fact.orderId} is confirmed`,
      body: `Thank you! We charged ${amount} and your order ${fact.orderId} is on its way.`,
    },
    OrderCompensated: {
      subject: `Your order ${fact.orderId} could not be completed`,
      body: `We could not complete order ${fact.orderId}${why}. Nothing was charged, or the ${amount} was refunded.`,
    },
    OrderFailed: {
      subject: `A problem with your order ${fact.orderId}`,
      body: `Order ${fact.orderId} failed${why}. Any charge of ${amount} is being reversed; we will be in touch if anything is left to do.`,
    },
    OrderResolvedManually: {
      subject: `Your order ${fact.orderId} has been sorted out`,
      body: `Order ${fact.orderId} could not be completed${why}, and our team has settled it by hand. Contact us about the ${amount} if anything looks wrong.`,
    },
  };
  return { to: customerEmail(fact.customerId), ...content[fact.type] };
}
