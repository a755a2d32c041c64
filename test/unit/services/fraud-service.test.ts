import { FraudService } from '../../../services/fraud/fraud-service';

describe('FraudService', () => {
  const fraud = new FraudService(100_000);

  it('approves an ordinary order', async () => {
    await expect(fraud.assess({ customerId: 'cust_1', total: 99_999, currency: 'USD' })).resolves.toMatchObject({ decision: 'approved' });
  });

  it('flags the known-bad customer, whatever the total', async () => {
    await expect(fraud.assess({ customerId: 'cust_fraud', total: 100, currency: 'USD' })).rejects.toMatchObject({ code: 'fraud_suspected' });
  });

  it('flags a total above the limit', async () => {
    await expect(fraud.assess({ customerId: 'cust_1', total: 100_001, currency: 'USD' })).rejects.toMatchObject({ code: 'fraud_suspected' });
  });
});
