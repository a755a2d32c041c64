// npm run ops -- <command>: operator commands.
//
//   npm run ops -- rescue --dry-run          what would be done, and why
//   npm run ops -- rescue                    reset every saga stuck on a nondeterminism error
//   npm run ops -- rescue --workflow-id order-ord_…   only this one (repeatable)
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { rescueStuckSagas } from '../ops/rescue';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker';

const USAGE = 'usage: npm run ops -- rescue [--dry-run] [--workflow-id ID ...]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'dry-run': { type: 'boolean', default: false }, 'workflow-id': { type: 'string', multiple: true } },
  });
  if (positionals[0] !== 'rescue' || positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(config) });
    // The code the workers run: a reset point must replay against it.
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    });
    const rescues = await rescueStuckSagas({
      client,
      taskQueue: config.temporal.taskQueue,
      workflowBundle,
      dryRun: values['dry-run'],
      workflowIds: values['workflow-id'],
      log: (line) => console.log(line),
    });
    const failed = rescues.filter((r) => r.error);
    const skipped = rescues.filter((r) => r.skipped);
    const done = rescues.length - failed.length - skipped.length;
    console.log(`${done} ${values['dry-run'] ? 'to rescue' : 'rescued'}, ${skipped.length} left alone, ${failed.length} could not be`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
