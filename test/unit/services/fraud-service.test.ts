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

  it('approves a total at the limit, scored by its share of the limit', async () => {
    await expect(fraud.assess({ customerId: 'cust_1', total: 100_000, currency: 'USD' })).resolves.toEqual({ decision: 'approved', score: 100 });
    await expect(fraud.assess({ customerId: 'cust_1', total: 25_000, currency: 'USD' })).resolves.toEqual({ decision: 'approved', score: 25 });
  });

  it('says which rule flagged the total, with the figures', async () => {
    await expect(fraud.assess({ customerId: 'cust_1', total: 150_000, currency: 'EUR' })).rejects.toMatchObject({
      message: 'Total 150000 EUR is above the review limit 100000',
      details: { total: 150_000, limit: 100_000 },
    });
  });
});
