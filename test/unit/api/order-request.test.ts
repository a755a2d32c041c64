import { idempotencyKeySchema, listQuerySchema, orderIdSchema, orderRequestSchema, resolveRequestSchema } from '../../../api/order-request';

// The API's edge contract, schema by schema. test/api/hostile-input.test.ts
// fuzzes the same contract through HTTP, with the full stack behind it.

const ORDER = {
  customerId: 'cust_1',
  items: [{ sku: 'KB-001', quantity: 2 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
};
type Order = typeof ORDER;

/** The issues zod reports for an order changed by `edit`, as "path: message". */
function issues(edit: (o: Order) => unknown): string[] {
  const result = orderRequestSchema.safeParse(edit(structuredClone(ORDER)));
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('orderRequestSchema', () => {
  it('accepts a valid order as it is, and trims the address', () => {
    expect(orderRequestSchema.parse(ORDER)).toEqual(ORDER);
    const padded = { ...ORDER, shippingAddress: { ...ORDER.shippingAddress, name: '  Ada Lovelace ' } };
    expect(orderRequestSchema.parse(padded).shippingAddress.name).toBe('Ada Lovelace');
  });

  it('rejects unknown fields at every level, so a typo is an error rather than a dropped field', () => {
    expect(issues((o) => ({ ...o, coupon: 'X' }))).toEqual([expect.stringMatching(/^: Unrecognized key.*coupon/)]);
    expect(issues((o) => ({ ...o, items: [{ sku: 'KB-001', quantitiy: 2 }] }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^items\.0: Unrecognized key.*quantitiy/)]),
    );
    expect(issues((o) => ({ ...o, payment: { token: 'tok_visa', cvc: '123' } }))).toEqual([expect.stringMatching(/^payment: Unrecognized key.*cvc/)]);
  });

  it.each([
    ['a missing customer id', (o: Order) => ({ ...o, customerId: undefined }), 'customerId'],
    ['a customer id with a space', (o: Order) => ({ ...o, customerId: 'cust 1' }), 'customerId'],
    ['a customer id of 65 characters', (o: Order) => ({ ...o, customerId: 'c'.repeat(65) }), 'customerId'],
    ['no items', (o: Order) => ({ ...o, items: [] }), 'items'],
    ['21 items', (o: Order) => ({ ...o, items: Array.from({ length: 21 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) }), 'items'],
    ['a quantity of 0', (o: Order) => ({ ...o, items: [{ sku: 'KB-001', quantity: 0 }] }), 'items.0.quantity'],
    ['a fractional quantity', (o: Order) => ({ ...o, items: [{ sku: 'KB-001', quantity: 1.5 }] }), 'items.0.quantity'],
    ['a quantity of 101', (o: Order) => ({ ...o, items: [{ sku: 'KB-001', quantity: 101 }] }), 'items.0.quantity'],
    ['a quantity as a string', (o: Order) => ({ ...o, items: [{ sku: 'KB-001', quantity: '2' }] }), 'items.0.quantity'],
    ['a country that is not an ISO code', (o: Order) => ({ ...o, shippingAddress: { ...o.shippingAddress, country: 'gb' } }), 'shippingAddress.country'],
    ['a blank city', (o: Order) => ({ ...o, shippingAddress: { ...o.shippingAddress, city: '   ' } }), 'shippingAddress.city'],
    ['no shipping address', (o: Order) => ({ ...o, shippingAddress: undefined }), 'shippingAddress'],
  ])('rejects %s, naming the field', (_what, edit, path) => {
    expect(issues(edit).map((i) => i.split(':')[0])).toEqual([path]);
  });

  it('rejects a SKU twice in one order, pointing at the second line', () => {
    const twice = issues((o) => ({
      ...o,
      items: [
        { sku: 'KB-001', quantity: 1 },
        { sku: 'MS-002', quantity: 1 },
        { sku: 'KB-001', quantity: 3 },
      ],
    }));
    expect(twice).toEqual(['items.2.sku: duplicate SKU KB-001; use one line with a larger quantity']);
  });

  describe('the payment token', () => {
    it.each(['tok_visa', 'tok_refund_fails', 'tok_123456789012'])('accepts %s', (token) => {
      expect(issues((o) => ({ ...o, payment: { token } }))).toEqual([]);
    });

    it.each([
      ['a card number', '4242424242424242'],
      ['a card number behind the prefix', 'tok_4242424242424242'],
      ['a card number split by underscores', 'tok_4242_4242_4242_4242'],
      ['13 digits, the shortest card number', 'tok_1234567890123'],
    ])('refuses %s, without repeating it', (_what, token) => {
      const result = orderRequestSchema.safeParse({ ...ORDER, payment: { token } });
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error!.issues)).not.toContain(token);
    });

    it('says why a card number is refused', () => {
      expect(issues((o) => ({ ...o, payment: { token: 'tok_4242424242424242' } }))).toEqual([
        "payment.token: looks like a card number: send the payment provider's token, never card data",
      ]);
    });

    it.each([
      ['a dash for the underscore', 'tok-visa'],
      ['no tok_ prefix', 'visa'],
      ['nothing after the prefix', 'tok_'],
      ['65 characters', 'tok_' + 'a'.repeat(61)],
    ])('refuses a token with %s', (_what, token) => {
      expect(issues((o) => ({ ...o, payment: { token } })).map((i) => i.split(':')[0])).toEqual(['payment.token']);
    });
  });
});

describe('the other request schemas', () => {
  it('takes an Idempotency-Key of printable ASCII, 1 to 255 characters', () => {
    expect(idempotencyKeySchema.safeParse('a0f7c2e4-order-1').success).toBe(true);
    expect(idempotencyKeySchema.safeParse('k'.repeat(255)).success).toBe(true);
    for (const bad of ['', 'has space', 'k'.repeat(256), 'naïve', 'tab\there']) expect(idempotencyKeySchema.safeParse(bad).success).toBe(false);
  });

  it('takes an order id of letters, digits, _ and -', () => {
    expect(orderIdSchema.safeParse('ord_1a-2B').success).toBe(true);
    for (const bad of ['', 'ord/1', '../etc', 'o'.repeat(65)]) expect(orderIdSchema.safeParse(bad).success).toBe(false);
  });

  it('takes a resolution of retry or mark-resolved, with a note', () => {
    expect(resolveRequestSchema.parse({ action: 'retry', note: ' refund by hand ' })).toEqual({ action: 'retry', note: 'refund by hand' });
    expect(resolveRequestSchema.safeParse({ action: 'mark-resolved', note: 'done' }).success).toBe(true);
    for (const bad of [{ action: 'retry' }, { action: 'retry', note: '  ' }, { action: 'undo', note: 'x' }, { action: 'retry', note: 'x', by: 'me' }]) {
      expect(resolveRequestSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('filters a listing by a known status and a customer id only', () => {
    expect(listQuerySchema.parse({ status: 'FAILED_NEEDS_MANUAL', customerId: 'cust_1' })).toEqual({ status: 'FAILED_NEEDS_MANUAL', customerId: 'cust_1' });
    expect(listQuerySchema.parse({})).toEqual({});
    for (const bad of [{ status: 'failed_needs_manual' }, { status: 'SHIPPED' }, { customerId: 'a b' }, { sort: 'asc' }]) {
      expect(listQuerySchema.safeParse(bad).success).toBe(false);
    }
  });
});
