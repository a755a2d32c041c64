// The README's scenarios as the page offers them: test cards, address presets,
// and presets that set both (and the customer, and the cart). Nothing in the
// saga knows of them: like a payment provider's sandbox, the outcome follows
// from the token, the stock and the address. So each runs under either
// coordination, which is chosen beside them, not by them.
import type { Address, Coordination } from './types';

export type { Address };

export const CARDS = [
  { token: 'tok_visa', label: 'Visa: approved' },
  { token: 'tok_declined', label: 'Declined card' },
  { token: 'tok_nope', label: 'Unknown card token' },
  { token: 'tok_flaky', label: 'Flaky provider: times out twice, then approves' },
  { token: 'tok_lost_response', label: 'Lost response: approves, but the answer is lost' },
  { token: 'tok_refund_fails', label: 'Approved, but every void and refund is refused' },
  { token: 'tok_provider_down', label: 'Provider down: every call times out, the retries run out' },
] as const;

const LONDON: Address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

export const ADDRESSES = [
  { id: 'normal', label: 'A normal address (London)', address: LONDON },
  { id: 'rejected', label: 'Carrier rejects the address (country XX)', address: { ...LONDON, country: 'XX' } },
  { id: 'never', label: 'Carrier never answers (postal code 00000)', address: { ...LONDON, postalCode: '00000' } },
  { id: 'slow', label: 'Slow carrier: fails 3 times, then ships (postal code 00001)', address: { ...LONDON, postalCode: '00001' } },
] as const;

export const COORDINATIONS: readonly { id: Coordination; label: string }[] = [
  { id: 'orchestration', label: 'Orchestration (the default): a Temporal workflow calls each service in turn, and runs the undos' },
  { id: 'choreography', label: "Choreography: the services react to each other's events; no one is in charge" },
];

export type AddressPreset = (typeof ADDRESSES)[number]['id'];

export type Scenario = {
  id: string;
  label: string;
  customerId: string;
  card: string;
  address: AddressPreset;
  /** `beyond-stock`: one more GPU-01 than the catalog says is available. */
  cart?: 'beyond-stock';
  /** What else it takes, when the page alone cannot do it. */
  note?: string;
};

export const SCENARIOS: Scenario[] = [
  { id: 'happy', label: 'Happy path', customerId: 'cust_1', card: 'tok_visa', address: 'normal' },
  { id: 'fraud', label: 'Fraud suspected (customer cust_fraud)', customerId: 'cust_fraud', card: 'tok_visa', address: 'normal' },
  { id: 'out-of-stock', label: 'Out of stock (one GPU more than available)', customerId: 'cust_1', card: 'tok_visa', address: 'normal', cart: 'beyond-stock' },
  { id: 'declined', label: 'Card declined', customerId: 'cust_1', card: 'tok_declined', address: 'normal' },
  { id: 'unknown-token', label: 'Unknown card token', customerId: 'cust_1', card: 'tok_nope', address: 'normal' },
  { id: 'flaky-payment', label: 'Flaky payment provider', customerId: 'cust_1', card: 'tok_flaky', address: 'normal' },
  { id: 'lost-response', label: 'Lost provider response', customerId: 'cust_1', card: 'tok_lost_response', address: 'normal' },
  { id: 'provider-down', label: 'Payment provider down (ends FAILED)', customerId: 'cust_1', card: 'tok_provider_down', address: 'normal' },
  { id: 'rejected', label: 'Shipping rejected', customerId: 'cust_1', card: 'tok_visa', address: 'rejected' },
  {
    id: 'never',
    label: 'Carrier never answers (then: Order TTL, or Cancel)',
    customerId: 'cust_1',
    card: 'tok_visa',
    address: 'never',
    note: 'Ends with shipping_timeout after SHIPPING_SLA_SECONDS; with ORDER_TTL_SECONDS below it, timed_out. Cancel it from its page to see cancelled_by_customer.',
  },
  {
    id: 'slow',
    label: 'Slow carrier (the payment hold is renewed)',
    customerId: 'cust_1',
    card: 'tok_visa',
    address: 'slow',
    note: 'The hold is renewed when PAYMENT_HOLD_SECONDS is short, e.g. 5.',
  },
  {
    id: 'refund-refused',
    label: 'Refund refused (waits for an operator at /ops)',
    customerId: 'cust_1',
    card: 'tok_refund_fails',
    address: 'rejected',
    note: "/ops lists orchestrated orders only (it reads Temporal's visibility): resolve a choreographed one with POST /orders/<id>/resolve and the operator token.",
  },
];

/** The README's two scenarios that start outside the page. */
export const ELSEWHERE = [
  'Flaky carrier: start with CARRIER_FAILURE_RATE=0.3 npm start, then place any order.',
  'Cancelled run (orchestration only): open an order in the Temporal UI (its page links to it) and cancel the run there.',
];
