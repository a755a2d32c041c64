import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { loadConfig } from '../../lib/config';
import { dataConverter } from '../../lib/data-converter';
import { workflowTraceSinks } from '../../lib/tracing';
import { resetPoint } from '../../ops/rescue';
import { decisionsAfter, splitTasks, workflowTasks } from '../../ops/saga-history';
import { SCENARIOS } from '../support/scenarios';

// Every history recorded from a real run (npm run histories:record) must
// replay against today's workflow code. A failure here means a change would
// break the sagas that are in flight when it is deployed: put it behind patched().
const HISTORIES = join(__dirname, '..', 'histories');
const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
const load = (file: string) => historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')));
const workflowId = (file: string) => file.replace(/\.json$/, '');
// The app's converter: with TEMPORAL_PAYLOAD_KEY set, these plaintext histories pass through its codec.
const converter = dataConverter(loadConfig());

describe('replaying recorded histories', () => {
  it('has a history for every scenario', () => {
    const recorded = new Set(files.map((f) => f.replace(/^v\d+-/, '').replace(/\.json$/, '')));
    expect(Object.keys(SCENARIOS).filter((name) => !recorded.has(name))).toEqual([]);
  });

  it.each(files)('%s replays against the current workflow code', async (file) => {
    await expect(
      Worker.runReplayHistory(
        // The bundle's tracing interceptors export through this sink, even though a replay exports nothing.
        { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: converter, sinks: workflowTraceSinks(undefined) },
        load(file),
        workflowId(file),
      ),
    ).resolves.toBeUndefined();
  });

  it('catches a nondeterministic change', async () => {
    // The fixture authorizes before it reserves: the same activities, another order.
    const happy = files.find((f) => f.endsWith('happy-path.json'))!;
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('./fixtures/reordered-checkout') }, load(happy), workflowId(happy)),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

// Six sagas that got stuck in the 1,000-order chaos run of 2026-11-30, written
// by the code before patch 'versions-first' (see docs, "Why sagas got stuck").
// No code can replay them: their first task recorded createOrder's marker, and
// the decision the workflow took with its result in the next task is one that
// a replay, which sees the result a task early, cannot take again. Only a
// reset gets them going: npm run ops -- rescue, tested in test/ops/.
const STUCK = join(HISTORIES, 'stuck');
const stuck = readdirSync(STUCK).filter((f) => f.endsWith('.json'));
const loadStuck = (file: string) => historyFromJSON(JSON.parse(readFileSync(join(STUCK, file), 'utf8')));

describe('the sagas stuck on 2026-11-30', () => {
  it('are all here', () => expect(stuck).toHaveLength(6));

  it.each(stuck)('%s fails to replay, on the fraud-check patch', async (file) => {
    const replay = Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: converter, sinks: workflowTraceSinks(undefined) },
      loadStuck(file),
      workflowId(file),
    );
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/patch marker encountered for change fraud-check/);
  });

  it.each(stuck)('%s is rescued by a reset to its first task, where the split began', async (file) => {
    const history = loadStuck(file);
    expect(splitTasks(workflowTasks(history))[0].completedEventId).toBe(4);
    const point = await resetPoint(history, workflowId(file), { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, dataConverter: converter });
    expect(point).toEqual({ eventId: 4, why: expect.stringContaining('crossed the workflow task that completed at event 4') });
  });

  it('lists the cancellations the stuck runs had accepted, to hand to the reset ones', () => {
    const accepted = stuck.flatMap((file) => decisionsAfter(loadStuck(file), 4).map((d) => `${d.name} at ${d.atStatus}`));
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.every((d) => d.startsWith('cancel at '))).toBe(true);
  });
});
