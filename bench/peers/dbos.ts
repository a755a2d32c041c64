// DBOS Transact (in process, its system database in our PostgreSQL) running
// the same 5-step workload over this application's services.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { createDb } from '../../lib/db';
import { createServices } from '../../services';
import { BusinessError } from '../../services/errors';
import { countryFor, runBenchSaga, type BenchInput } from '../saga';
import type { Target } from '../targets';
import { orderIdFor } from '../targets';
import { benchSteps } from '../workload';

export async function dbosTarget(opts: { dbUrl: string; sysDbUrl: string; pool: number; prefix: string }): Promise<Target> {
  const db = createDb(opts.dbUrl, opts.pool);
  const steps = benchSteps(createServices(db));
  const saga = DBOS.registerWorkflow(
    (input: BenchInput) =>
      runBenchSaga(input, (step, arg) =>
        DBOS.runStep(() => steps[step](arg), {
          name: step,
          // Like the Temporal activities: transient errors retry, business "no"s do not.
          retriesAllowed: true,
          maxAttempts: 8,
          intervalSeconds: 0.5,
          shouldRetry: (err) => !(err instanceof BusinessError),
        }),
      ),
    { name: 'benchSaga' },
  );
  DBOS.setConfig({ name: 'checkout-bench', systemDatabaseUrl: opts.sysDbUrl, systemDatabasePoolSize: opts.pool, logLevel: 'error' });
  await DBOS.launch();
  return {
    runOne: async (n) => {
      const orderId = orderIdFor(opts.prefix, n);
      const handle = await DBOS.startWorkflow(saga, { workflowID: `bench-${orderId}` })({ orderId, country: countryFor(n) });
      const r = await handle.getResult();
      return { status: r.status };
    },
    watched: () => ({}),
    async stop() {
      await DBOS.shutdown();
      await db.$disconnect();
    },
  };
}
