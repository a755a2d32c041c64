// The chaos run's orders: every kind of ending, each triggered the way a user
// would trigger it (card tokens, addresses, the last units of a SKU, a cancel).

export type OrderKind = 'happy' | 'flaky-payment' | 'declined' | 'shipping-rejected' | 'cancelled' | 'last-units';

export type Coordination = 'orchestration' | 'choreography';
/** How the run's orders are coordinated: all one way, or `mixed`, alternating by blocks of ten so that every kind runs both ways. */
export type CoordinationMix = Coordination | 'mixed';

export type PlannedOrder = { kind: OrderKind; coordination: Coordination; idempotencyKey: string; body: object };

/** Units of GPU-01 the seed starts with; the last-units orders ask for more than this, together. */
export const LAST_UNITS_SKU = 'GPU-01';
const LAST_UNITS_ORDERS = 6;

const ADDRESS = { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' };
/** The carrier never answers for this postal code, so the order waits there until it is cancelled. */
const NEVER_SHIPS = '00000';

// Out of ten orders: the rest of each ten are happy.
const EVERY_TEN: OrderKind[] = ['flaky-payment', 'declined', 'shipping-rejected', 'cancelled'];

export function planOrders(count: number, runId: string, mix: CoordinationMix = 'orchestration'): PlannedOrder[] {
  const kinds: OrderKind[] = [];
  for (let i = 0; kinds.length < count - LAST_UNITS_ORDERS; i++) kinds.push(EVERY_TEN[i % 10] ?? 'happy');
  for (let i = 0; i < LAST_UNITS_ORDERS && kinds.length < count; i++) kinds.push('last-units');
  return kinds.map((kind, i) => {
    const coordination: Coordination = mix === 'mixed' ? (Math.floor(i / 10) % 2 === 0 ? 'orchestration' : 'choreography') : mix;
    const body = bodyFor(kind, i);
    // Left out for orchestration, as a client that never heard of choreography sends it.
    return { kind, coordination, idempotencyKey: `chaos-${runId}-${i}`, body: coordination === 'choreography' ? { ...body, coordination } : body };
  });
}

function bodyFor(kind: OrderKind, i: number): object {
  const order = (changes: { token?: string; sku?: string; address?: Partial<typeof ADDRESS> } = {}) => ({
    customerId: `cust_chaos_${i % 7}`,
    items: [{ sku: changes.sku ?? 'KB-001', quantity: 1 }],
    payment: { token: changes.token ?? 'tok_visa' },
    shippingAddress: { ...ADDRESS, ...changes.address },
  });
  switch (kind) {
    case 'happy':
      return order();
    case 'flaky-payment':
      return order({ token: 'tok_flaky' });
    case 'declined':
      return order({ token: 'tok_declined' });
    case 'shipping-rejected':
      return order({ address: { country: 'XX' } });
    case 'cancelled':
      return order({ address: { postalCode: NEVER_SHIPS } });
    case 'last-units':
      return order({ sku: LAST_UNITS_SKU });
  }
}

/** The endings each kind may reach; anything else is reported as unexpected. */
const EXPECTED_ENDINGS: Record<OrderKind, string[]> = {
  happy: ['COMPLETED'],
  'flaky-payment': ['COMPLETED'],
  declined: ['COMPENSATED card_declined'],
  'shipping-rejected': ['COMPENSATED address_rejected'],
  cancelled: ['COMPENSATED cancelled_by_customer'],
  'last-units': ['COMPLETED', 'COMPENSATED out_of_stock'],
};

/**
 * With a flaky carrier, an order that reaches shipping may also run out its
 * shipping SLA, as README's "Flaky carrier" row says: retries with backoff
 * capped at 10 s, plus worker kills and server restarts, can outlast it. That
 * ending is then the saga doing its job, not a defect.
 */
export function expectedEndings(kind: OrderKind, carrierFailureRate: number): string[] {
  const endings = EXPECTED_ENDINGS[kind];
  return carrierFailureRate > 0 && endings.includes('COMPLETED') ? [...endings, 'COMPENSATED shipping_timeout'] : endings;
}
