import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { loadConfig } from '../../lib/config';
import { retiredBuildPath } from '../../lib/workflow-bundle';
import { dataConverter } from '../../lib/data-converter';
import { workflowTraceSinks } from '../../lib/tracing';
import { resetPoint } from '../../ops/rescue';
import { decisionsAfter, splitTasks, workflowTasks } from '../../ops/saga-history';
import { SCENARIOS } from '../support/scenarios';

// Each build's sagas replay against that build (docs/deploys.md). The workflow
// code in this tree is the current build: test/histories/current/ holds its
// histories, recorded from it (npm run histories:record), and they must replay
// against it. A failure there means the change is one that sagas in flight on
// the build before it cannot run: it ships as a new build (the default BUILD_ID
// makes it one), the build before it is retired (npm run build:retire), and
// its histories are recorded anew. A retired build is kept in builds/, as its
// bundle, with its histories in test/histories/<build id>/, replayed against it.
const HISTORIES = join(__dirname, '..', 'histories');
const CURRENT = join(HISTORIES, 'current');
const jsonIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json'));
const files = jsonIn(CURRENT);
const load = (dir: string, file: string) => historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
const workflowId = (file: string) => file.replace(/\.json$/, '');
// The app's converter: with TEMPORAL_PAYLOAD_KEY set, these plaintext histories pass through its codec.
const converter = dataConverter(loadConfig());
const currentBuild = { codePath: process.env.TEST_WORKFLOW_BUNDLE! };
const replay = (bundle: { codePath: string }, dir: string, file: string) =>
  // The bundle's tracing interceptors export through this sink, even though a replay exports nothing.
  Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: converter, sinks: workflowTraceSinks(undefined) }, load(dir, file), workflowId(file));

describe('the current build', () => {
  it('has a history for every scenario, and none of a scenario that is gone', () => {
    expect(files.map(workflowId).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it.each(files)('%s replays against the current workflow code', async (file) => {
    await expect(replay(currentBuild, CURRENT, file)).resolves.toBeUndefined();
  });

  it('catches a nondeterministic change', async () => {
    // The fixture authorizes before it reserves: the same activities, another order.
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('./fixtures/reordered-checkout') }, load(CURRENT, 'happy-path.json'), 'happy-path'),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

const retired = readdirSync(HISTORIES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'current')
  .map((d) => d.name);

describe.each(retired)('retired build %s', (buildId) => {
  const dir = join(HISTORIES, buildId);
  const bundle = { codePath: retiredBuildPath(buildId)! };

  it('is kept in builds/', () => expect(retiredBuildPath(buildId)).toBeDefined());

  it.each(jsonIn(dir))('%s replays against the build that wrote it', async (file) => {
    await expect(replay(bundle, dir, file)).resolves.toBeUndefined();
  });

  // Otherwise its histories belong in current/, and the build need not be kept.
  it('is still needed: the current code cannot replay its histories', async () => {
    const results = await Promise.allSettled(jsonIn(dir).map((file) => replay(currentBuild, dir, file)));
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof DeterminismViolationError).length).toBeGreaterThan(0);
  });
});

// Six sagas that got stuck in the 1,000-order chaos run of 2026-11-30, written
// by the code before patch 'versions-first' (see docs, "Why sagas got stuck"),
// and kept with the build that patch ended up in: the last patched build,
// which took them back after a reset. No code can replay them: their first task recorded createOrder's marker, and
// the decision the workflow took with its result in the next task is one that
// a replay, which sees the result a task early, cannot take again. Only a
// reset gets them going: npm run ops -- rescue, tested in test/ops/.
const LAST_PATCHED_BUILD = '52853da0f209f753';
const lastPatched = { codePath: retiredBuildPath(LAST_PATCHED_BUILD)! };
const STUCK = join(HISTORIES, LAST_PATCHED_BUILD, 'stuck');
const stuck = readdirSync(STUCK).filter((f) => f.endsWith('.json'));
const loadStuck = (file: string) => historyFromJSON(JSON.parse(readFileSync(join(STUCK, file), 'utf8')));

describe('the sagas stuck on 2026-11-30', () => {
  it('are all here', () => expect(stuck).toHaveLength(6));

  it.each(stuck)('%s fails to replay, on the fraud-check patch', async (file) => {
    const replay = Worker.runReplayHistory(
      { workflowBundle: lastPatched, dataConverter: converter, sinks: workflowTraceSinks(undefined) },
      loadStuck(file),
      workflowId(file),
    );
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/patch marker encountered for change fraud-check/);
  });

  it.each(stuck)('%s is rescued by a reset to its first task, where the split began', async (file) => {
    const history = loadStuck(file);
    expect(splitTasks(workflowTasks(history))[0].completedEventId).toBe(4);
    const point = await resetPoint(history, workflowId(file), { workflowBundle: lastPatched, dataConverter: converter });
    expect(point).toEqual({ eventId: 4, why: expect.stringContaining('crossed the workflow task that completed at event 4') });
  });

  it('lists the cancellations the stuck runs had accepted, to hand to the reset ones', () => {
    const accepted = stuck.flatMap((file) => decisionsAfter(loadStuck(file), 4).map((d) => `${d.name} at ${d.atStatus}`));
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.every((d) => d.startsWith('cancel at '))).toBe(true);
  });
});
