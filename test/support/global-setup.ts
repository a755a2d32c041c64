import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../../scripts/dev-server';
import { startNatsServer } from '../../scripts/nats-server';
import { startTemporalServer } from '../../scripts/temporal-server';
import { migrate } from '../../scripts/db/migrate';
import { seedCatalog } from '../../scripts/db/seed';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../worker';
import { databaseUrlFor, TEMPLATE_DB } from './databases';

/**
 * Once per `npm test`: a real Temporal dev server on a free port (or the
 * production-topology server, see startTemporal), a private
 * nats-server with JetStream on another (its streams in a temp dir, so no run
 * sees another's), a migrated and seeded template database that each test file clones, and the workflow
 * bundle built once instead of once per worker.
 */
export default async function globalSetup(): Promise<void> {
  const templateUrl = databaseUrlFor(TEMPLATE_DB);
  await migrate(templateUrl, { log: () => undefined });
  await seedCatalog(templateUrl);

  const server = await startTemporal();
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger,
  });
  const bundlePath = join(mkdtempSync(join(tmpdir(), 'checkout-test-')), 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);

  const natsDir = mkdtempSync(join(tmpdir(), 'checkout-test-nats-'));
  const nats = await startNatsServer({ storeDir: natsDir });

  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.NATS_URL = nats.url;
  (globalThis as { __natsServer?: unknown }).__natsServer = { stop: nats.stop, dir: natsDir };
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as { __devServer?: typeof server }).__devServer = server;
}

/**
 * TEMPORAL_SERVER=postgres runs the suite against the production-topology
 * server (scripts/temporal-server.ts) on databases of its own, dropped at
 * teardown; anything else is a mistake, not a silent dev server.
 */
function startTemporal() {
  const choice = process.env.TEMPORAL_SERVER ?? 'dev';
  if (choice === 'postgres') return startTemporalServer({ freshDatabases: true });
  if (choice === 'dev') return startDevServer({ port: 0, uiPort: 0 });
  throw new Error(`TEMPORAL_SERVER=${choice}: expected dev (the default) or postgres`);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};
