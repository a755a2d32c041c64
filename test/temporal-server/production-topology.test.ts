import { Connection } from '@temporalio/client';
import { DEFAULT_HISTORY_SHARDS } from '../../scripts/temporal-server-config';
import { CUSTOMER_ID, ORDER_STATUS } from '../../workflows/search-attributes';

// What TEMPORAL_SERVER=postgres promises, asked of the server the run's other
// tests use (test/support/global-setup.ts): no second server is started. On
// the default dev server there is nothing to check, so it is skipped.
const onPostgres = process.env.TEMPORAL_SERVER === 'postgres';

(onPostgres ? describe : describe.skip)('the production-topology Temporal server (TEMPORAL_SERVER=postgres)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  afterAll(() => connection?.close());

  it('keeps its state in PostgreSQL, over several history shards', async () => {
    const info = await connection.workflowService.getClusterInfo({});
    expect(info).toMatchObject({ persistenceStore: 'postgres12', visibilityStore: 'postgres12', historyShardCount: DEFAULT_HISTORY_SHARDS });
  });

  it('has the default namespace with the search attributes the workflow writes', async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining([ORDER_STATUS.name, CUSTOMER_ID.name]));
  });
});
