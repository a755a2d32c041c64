import { pgEndpoint } from '../../../scripts/temporal-server-schema';

describe('where the Temporal server finds PostgreSQL', () => {
  it('takes host, port and role from DATABASE_URL, with its defaults', () => {
    expect(pgEndpoint('postgresql://postgres@127.0.0.1:5432/checkout')).toEqual({ host: '127.0.0.1', port: 5432, user: 'postgres', password: '' });
    expect(pgEndpoint('postgresql://db.internal/checkout')).toEqual({ host: 'db.internal', port: 5432, user: 'postgres', password: '' });
  });

  it('decodes a percent-encoded role and password, as the server wants them raw', () => {
    expect(pgEndpoint('postgresql://app%40x:p%40ss%2Fw@10.0.0.5:6543/checkout')).toEqual({ host: '10.0.0.5', port: 6543, user: 'app@x', password: 'p@ss/w' });
  });
});
