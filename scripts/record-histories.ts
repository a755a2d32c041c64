// Records a real history of every saga scenario into test/histories/current/,
// the histories of the workflow code in this tree, which the replay tests
// replay against it. Run it after a change to the workflow, and commit what
// changed. If the histories there no longer replay, the change is a new build
// that sagas in flight must not run: first `npm run build:retire` (which keeps
// the build before it, and moves its histories aside), then record
// (docs/deploys.md, "Before each deploy").
//
//   npm run histories:record                          every scenario
//   npm run histories:record -- --only cancelled-run  one scenario (one added since)
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createServices } from '../services';
import { createCheckoutWorker } from '../worker';
import { runScenario } from '../test/support/run-scenario';
import { SCENARIOS, type ScenarioName } from '../test/support/scenarios';
import { cloneTemplate, databaseUrlFor, dropDatabase, TEMPLATE_DB } from '../test/support/databases';
import { migrate } from './db/migrate';
import { seedCatalog } from './db/seed';
import { startDevServer } from './dev-server';

const OUT_DIR = join(__dirname, '..', 'test', 'histories', 'current');

/** The scenarios to record: all of them unless `--only` names some. */
function readArgs(args: string[]): { names: ScenarioName[] } {
  const { values } = parseArgs({ args, options: { only: { type: 'string', multiple: true } } });
  const all = Object.keys(SCENARIOS) as ScenarioName[];
  const only = values.only as ScenarioName[] | undefined;
  const unknown = (only ?? []).filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new Error(`No scenario named ${unknown.join(', ')}; the scenarios are: ${all.join(', ')}`);
  return { names: only ?? all };
}

async function main(): Promise<void> {
  // Before anything starts: a typo in a name should not cost a server start.
  const { names } = readArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // The committed histories must replay anywhere, CI included, where there is no key.
  if (loadConfig().payloadKeys) {
    throw new Error(
      'TEMPORAL_PAYLOAD_KEY is set: histories recorded now would be encrypted and replay only with that key. ' +
        'Unset it to record the committed histories (test/codec/ records and replays an encrypted one itself).',
    );
  }
  const templateUrl = databaseUrlFor(TEMPLATE_DB);
  await migrate(templateUrl, { log: () => undefined });
  await seedCatalog(templateUrl);
  const database = await cloneTemplate();
  const server = await startDevServer({ port: 0, uiPort: 0 });
  const db = createDb(database.url, 5);
  const services = createServices(db);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'record-histories';
  const worker = await createCheckoutWorker({ connection: nativeConnection, namespace: 'default', taskQueue, db });

  try {
    await mkdir(OUT_DIR, { recursive: true });
    await worker.runUntil(async () => {
      for (const name of names) {
        const run = await runScenario({ client, taskQueue, services }, name);
        const file = join(OUT_DIR, `${name}.json`);
        await writeFile(file, JSON.stringify(JSON.parse(historyToJSON(await run.handle.fetchHistory())), null, 2) + '\n');
        console.log(`${name}: ${run.state.status} -> ${file}`);
      }
    });
  } finally {
    await nativeConnection.close();
    await connection.close();
    await db.$disconnect();
    await dropDatabase(database.name);
    await dropDatabase(TEMPLATE_DB);
    await server.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
