import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sleep } from './backoff';

// Worker Versioning's control plane, over the raw WorkflowService calls: the
// TypeScript client has no wrapper for them yet, and `temporal worker
// deployment` does the same from a shell (docs/deploys.md).

const { VersionDrainageStatus, WorkerDeploymentVersionStatus } = temporal.api.enums.v1;

/** A deployment version, as Temporal names it: the deployment and one build of it. */
export type BuildRef = { deploymentName: string; buildId: string };

export type BuildSummary = {
  buildId: string;
  /** INACTIVE, CURRENT, RAMPING, DRAINING or DRAINED (Temporal's status, without its prefix). */
  status: string;
  /** The server's own view of whether pinned workflows remain; refreshed every few minutes, see pinnedSagas(). */
  drainage: string;
};

export type DeploymentState = {
  name: string;
  current: string | null;
  ramping: { buildId: string; percent: number } | null;
  builds: BuildSummary[];
};

/** The deployment's routing (which build takes new sagas) and its builds; null if no worker of it has polled yet. */
export async function describeDeployment(client: Client, deploymentName: string): Promise<DeploymentState | null> {
  try {
    const { workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({
      namespace: client.options.namespace,
      deploymentName,
    });
    const routing = info?.routingConfig;
    const ramping = routing?.rampingDeploymentVersion?.buildId;
    return {
      name: deploymentName,
      current: routing?.currentDeploymentVersion?.buildId || null,
      ramping: ramping ? { buildId: ramping, percent: routing?.rampingVersionPercentage ?? 0 } : null,
      builds: (info?.versionSummaries ?? []).map((v) => ({
        buildId: v.deploymentVersion?.buildId ?? '',
        status: enumName(WorkerDeploymentVersionStatus, v.status, 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
        drainage: enumName(VersionDrainageStatus, v.drainageStatus, 'VERSION_DRAINAGE_STATUS_'),
      })),
    };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** New sagas start on `buildId` from now on; those in flight stay on the build that started them. */
export async function setCurrentBuild(client: Client, { deploymentName, buildId }: BuildRef, identity = 'checkout-ops'): Promise<void> {
  await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName,
    buildId,
    identity,
    // A build that polls only some of the task queues is still a build: the checkout has one.
    ignoreMissingTaskQueues: true,
  });
}

/**
 * Makes the build current once the server knows it. The server learns of a
 * build when one of its workers first polls, a moment after the worker starts,
 * and refuses to route to it until then; so this asks again, with backoff,
 * through refusals and a server that is restarting, until `stopped()` or the
 * timeout. False if it stopped first; true once the build is current (already,
 * or made so).
 */
export async function makeCurrentOnceKnown(
  client: Client,
  build: BuildRef,
  { identity, timeoutMs = 60_000, stopped = () => false }: { identity?: string; timeoutMs?: number; stopped?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; !stopped(); attempt++) {
    try {
      const state = await describeDeployment(client, build.deploymentName);
      if (state?.current === build.buildId) return true;
      if (state?.builds.some((b) => b.buildId === build.buildId)) {
        await setCurrentBuild(client, build, identity);
        return true;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Build ${build.buildId} of ${build.deploymentName} could not be made current${lastError ? `: ${lastError}` : ': no worker of it polled'}`,
      );
    }
    await sleep(Math.min(100 * 2 ** attempt, 2000));
  }
  return false;
}

/** `percent` of new sagas start on `buildId`, the rest on the current build; 0 stops the ramp. */
export async function rampBuild(client: Client, { deploymentName, buildId }: BuildRef, percent: number, identity = 'checkout-ops'): Promise<void> {
  await client.workflowService.setWorkerDeploymentRampingVersion({
    namespace: client.options.namespace,
    deploymentName,
    buildId: percent > 0 ? buildId : '',
    percentage: percent,
    identity,
    ignoreMissingTaskQueues: true,
  });
}

/**
 * Running sagas pinned to the build, counted in visibility: what decides when
 * its workers may stop. The server's drainage status says the same, but only
 * after its refresh interval (minutes), and a build is never drained while it
 * is current or ramping.
 */
export async function pinnedSagas(client: Client, { deploymentName, buildId }: BuildRef): Promise<number> {
  const { count } = await client.workflow.count(`TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}' AND ExecutionStatus = 'Running'`);
  return count;
}

/**
 * Pins one saga to another build (`temporal workflow update-options
 * --versioning-override-behavior pinned`): its next workflow task runs there,
 * replaying its whole history on that build's code. Only for a saga whose
 * history that build replays (npm run ops -- deploy move checks it first).
 */
export async function pinToBuild(client: Client, workflowId: string, { deploymentName, buildId }: BuildRef): Promise<void> {
  await client.workflowService.updateWorkflowExecutionOptions({
    namespace: client.options.namespace,
    workflowExecution: { workflowId },
    workflowExecutionOptions: {
      versioningOverride: {
        pinned: {
          behavior: temporal.api.workflow.v1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED,
          version: { deploymentName, buildId },
        },
      },
    },
    updateMask: { paths: ['versioning_override'] },
  });
}

function enumName(values: Record<string, unknown>, value: number | null | undefined, prefix: string): string {
  const name = Object.entries(values).find(([, v]) => v === value)?.[0] ?? String(value);
  return name.replace(prefix, '');
}

function isNotFound(err: unknown): boolean {
  // gRPC NOT_FOUND: the deployment exists once a worker of it has polled.
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 5;
}
