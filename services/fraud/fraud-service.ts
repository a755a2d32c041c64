import { BusinessError } from '../errors';

/** A customer id that the rules always flag, for demos and tests. */
export const FLAGGED_CUSTOMER = 'cust_fraud';

export type FraudAssessment = { decision: 'approved'; score: number };

/**
 * A stand-in for a fraud-scoring provider: two rules, no state. It flags a
 * known-bad customer, and any order above a configurable total.
 */
export class FraudService {
  constructor(private readonly totalLimit: number) {}

  async assess(order: { customerId: string; total: number; currency: string }): Promise<FraudAssessment> {
    if (order.customerId === FLAGGED_CUSTOMER) {
      throw new BusinessError('fraud_suspected', `Customer ${order.customerId} is on the fraud list`);
    }
    if (order.total > this.totalLimit) {
      throw new BusinessError('fraud_suspected', `Total ${order.total} ${order.currency} is above the review limit ${this.totalLimit}`, {
        total: order.total,
        limit: this.totalLimit,
      });
    }
    return { decision: 'approved', score: Math.round((order.total / this.totalLimit) * 100) };
  }
}
