import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { loadConfig } from '../../lib/config';
import { dataConverter } from '../../lib/data-converter';
import { workflowTraceSinks } from '../../lib/tracing';
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
