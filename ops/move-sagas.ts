import type { Client } from '@temporalio/client';
import { Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { workflowTraceSinks } from '../lib/tracing';
import { pinToBuild, type BuildRef } from '../lib/worker-deployment';
import { ORDER_STATUS } from '../workflows/search-attributes';

/** What became of one saga: moved to the build, or left where it is, and why. */
export type Move = { workflowId: string; moved: boolean; why: string };

export type MoveOptions = {
  client: Client;
  deploymentName: string;
  from: string;
  to: string;
  /** The code of build `to`: every saga's history must replay against it before it is moved. */
  toBundle: WorkflowBundleOption;
  /** Only sagas in this status (OrderStatus); all running sagas pinned to `from` otherwise. */
  status?: string;
  dryRun: boolean;
  log?: (line: string) => void;
};

/**
 * Moves running sagas pinned to one build onto another (npm run ops -- deploy
 * move): for a saga that waits for an operator in FAILED_NEEDS_MANUAL for days,
 * so that its old build's workers can stop. Pinned, a saga never meets code
 * that cannot replay it; moved, it must: so each history is first replayed
 * against the target build, and a saga whose history does not replay stays
 * where it is. Making it movable is what patched() is still for: the target
 * build takes the old path behind a patch (docs/deploys.md, "What still needs
 * a patch").
 */
export async function moveSagas(opts: MoveOptions): Promise<Move[]> {
  const { client } = opts;
  const log = opts.log ?? (() => undefined);
  const filter = opts.status ? ` AND ${ORDER_STATUS.name} = '${opts.status}'` : '';
  const query = `TemporalWorkerDeploymentVersion = '${opts.deploymentName}:${opts.from}' AND ExecutionStatus = 'Running'${filter}`;
  const target: BuildRef = { deploymentName: opts.deploymentName, buildId: opts.to };
  const moves: Move[] = [];
  for await (const { workflowId } of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const replayed = await Worker.runReplayHistory(
      { workflowBundle: opts.toBundle, dataConverter: client.options.dataConverter, sinks: workflowTraceSinks(undefined) },
      history,
      workflowId,
    ).then(
      () => null,
      (err: Error) => err.message,
    );
    const move: Move =
      replayed === null
        ? { workflowId, moved: !opts.dryRun, why: `its history replays on build ${opts.to}` }
        : { workflowId, moved: false, why: `its history does not replay on build ${opts.to}, which needs a patch for it: ${replayed.split('\n')[0]}` };
    if (move.moved) await pinToBuild(client, workflowId, target);
    log(`${workflowId}: ${move.moved ? 'moved' : opts.dryRun && replayed === null ? 'would move' : 'stays'}: ${move.why}`);
    moves.push(move);
  }
  return moves;
}
