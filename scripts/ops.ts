// npm run ops -- <command>: operator commands.
//
//   npm run ops -- deploy status                     builds, which one takes new sagas, sagas pinned to each
//   npm run ops -- deploy ramp BUILD 10              10 % of new sagas start on BUILD (0 ends the ramp)
//   npm run ops -- deploy set-current BUILD          every new saga starts on BUILD (a rollback too)
//   npm run ops -- deploy move --from OLD --status FAILED_NEEDS_MANUAL [--to BUILD] [--dry-run]
//                                                    sagas pinned to OLD onto BUILD (the current one), each
//                                                    only if its history replays there
//   npm run ops -- rescue --dry-run                  what would be done, and why
//   npm run ops -- rescue                            reset every saga stuck on a nondeterminism error
//   npm run ops -- rescue --workflow-id order-ord_…  only this one (repeatable)
//   npm run ops -- rescue --build BUILD              against a retired build's code (the sagas it runs)
//
// The deploy commands act on DEPLOYMENT_NAME (checkout unless set); see docs/deploys.md.
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { describeDeployment, pinnedSagas, rampBuild, setCurrentBuild } from '../lib/worker-deployment';
import { workerBuild } from '../lib/workflow-bundle';
import { moveSagas } from '../ops/move-sagas';
import { rescueStuckSagas } from '../ops/rescue';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker';

const USAGE = [
  'usage: npm run ops -- deploy status',
  '       npm run ops -- deploy ramp BUILD PERCENT',
  '       npm run ops -- deploy set-current BUILD',
  '       npm run ops -- deploy move --from BUILD [--to BUILD] [--status STATUS] [--dry-run]',
  '       npm run ops -- rescue [--dry-run] [--workflow-id ID ...] [--build BUILD]',
].join('\n');

class UsageError extends Error {}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      'workflow-id': { type: 'string', multiple: true },
      build: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      status: { type: 'string' },
    },
  });
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(config) });
    const [command, ...args] = positionals;
    if (command === 'rescue' && args.length === 0) return await rescue(client, config, values);
    if (command === 'deploy') return await deploy(client, config, args, values);
    throw new UsageError();
  } finally {
    await connection.close();
  }
}

type Flags = { 'dry-run': boolean; 'workflow-id'?: string[]; build?: string; from?: string; to?: string; status?: string };

async function deploy(client: Client, config: Config, args: string[], values: Flags): Promise<number> {
  const deploymentName = config.worker.deploymentName;
  const [sub, buildId, percent] = args;
  if (sub === 'status' && args.length === 1) {
    const state = await describeDeployment(client, deploymentName);
    if (!state) {
      console.log(`No worker of deployment ${deploymentName} has polled yet.`);
      return 0;
    }
    const ramp = state.ramping ? `, ${state.ramping.percent} % to ${state.ramping.buildId}` : '';
    console.log(`Deployment ${deploymentName}: new sagas start on ${state.current ?? 'unversioned workers'}${ramp}`);
    for (const build of state.builds) {
      const pinned = await pinnedSagas(client, { deploymentName, buildId: build.buildId });
      console.log(`  ${build.buildId.padEnd(24)} ${build.status.padEnd(9)} ${String(pinned).padStart(6)} running sagas pinned`);
    }
    return 0;
  }
  if (sub === 'ramp' && buildId && percent !== undefined && args.length === 3) {
    const share = Number(percent);
    if (!Number.isFinite(share) || share < 0 || share > 100) throw new UsageError(`PERCENT must be from 0 to 100, got ${percent}`);
    await rampBuild(client, { deploymentName, buildId }, share);
    console.log(share > 0 ? `${share} % of new sagas start on ${buildId}` : 'Ramp ended: new sagas start on the current build');
    return 0;
  }
  if (sub === 'set-current' && buildId && args.length === 2) {
    await setCurrentBuild(client, { deploymentName, buildId });
    console.log(`New sagas start on ${buildId}; sagas in flight stay on the build that started them`);
    return 0;
  }
  if (sub === 'move' && args.length === 1 && values.from) {
    const to = values.to ?? (await describeDeployment(client, deploymentName))?.current;
    if (!to) throw new UsageError('--to BUILD: the deployment has no current build');
    const { workflowBundle } = await workerBuild(to, WORKFLOW_INTERCEPTOR_MODULES);
    const moves = await moveSagas({
      client,
      deploymentName,
      from: values.from,
      to,
      toBundle: workflowBundle,
      status: values.status,
      dryRun: values['dry-run'],
      log: (line) => console.log(line),
    });
    const moved = moves.filter((m) => m.moved).length;
    console.log(`${values['dry-run'] ? 'Dry run: nothing moved' : `${moved} moved`}; ${moves.length - moved} of ${moves.length} stay on ${values.from}`);
    return moves.every((m) => m.moved || values['dry-run']) ? 0 : 1;
  }
  throw new UsageError();
}

async function rescue(client: Client, config: Config, values: Flags): Promise<number> {
  // The code that runs the sagas: a reset point must replay against it.
  const { workflowBundle, buildId } = await workerBuild(values.build, WORKFLOW_INTERCEPTOR_MODULES);
  console.log(`Against build ${buildId}`);
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
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      if (err.message) console.error(err.message);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(err);
    process.exit(2);
  },
);
