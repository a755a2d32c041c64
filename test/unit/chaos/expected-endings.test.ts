import { expectedEndings } from '../../../chaos/order-mix';

describe("the chaos run's expected endings", () => {
  it('let an order that would complete run out its shipping SLA only when the carrier is flaky', () => {
    expect(expectedEndings('happy', 0)).toEqual(['COMPLETED']);
    expect(expectedEndings('happy', 0.3)).toEqual(['COMPLETED', 'COMPENSATED shipping_timeout']);
    expect(expectedEndings('last-units', 0.3)).toContain('COMPENSATED out_of_stock');
  });

  it('never excuse a business ending decided before shipping', () => {
    expect(expectedEndings('declined', 0.3)).toEqual(['COMPENSATED card_declined']);
    expect(expectedEndings('cancelled', 0.3)).toEqual(['COMPENSATED cancelled_by_customer']);
  });
});
