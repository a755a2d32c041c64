import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import path from 'node:path';
import { sleep } from '../lib/backoff';
import { describeDeployment, makeCurrentOnceKnown, pinnedSagas, rampBuild, type BuildRef } from '../lib/worker-deployment';
import { ManagedProcess } from './managed-process';

type History = temporal.api.history.v1.IHistory;

/** One build of the checkout in the run: the workflow code it runs, and the workers that run it. */
export type RunBuild = {
  buildId: string;
  /** What the build is, for the report: `retired` (builds/<id>.js) or `current` (this tree's code under that id). */
  code: 'retired' | 'current';
  workers: ManagedProcess[];
  /** Whether it takes new sagas, or is about to (a deploy under way); from when it stopped, in seconds since the run's start. */
  serving: boolean;
  servedOutAt: number | null;
  /** When its workers were stopped because no saga was pinned to it any more. */
  drainedAtSeconds: number | null;
};

export type DeployStep = { kind: 'deploy' | 'rollback'; buildId: string };

export type DeployRecord = {
  kind: 'deploy' | 'rollback';
  buildId: string;
  /** From the previous current build. */
  from: string;
  atSeconds: number;
  /** When the build took a share of new sagas (10 %), and all of them. */
  rampedAtSeconds?: number;
  currentAtSeconds?: number;
  error?: string;
};

export type BuildReport = {
  buildId: string;
  code: 'retired' | 'current';
  /** Sagas whose first workflow task ran on this build, and those whose last one did. */
  started: number;
  ended: number;
  /** Sagas that started on another build and ended on this one: none, if pinning holds. */
  movedIn: number;
  drainedAtSeconds: number | null;
};

/** The share of new sagas a build gets while it ramps, before it is made current. */
const RAMP_PERCENT = 10;
const RAMP_SECONDS = 8;
/** How long an old build's workers stay after it stopped taking new sagas, at the least, before its pinned count is trusted. */
const MIN_SERVED_OUT_SECONDS = 20;

/**
 * The rolling deploy of the chaos run (`--deploys N`): the run starts on the
 * last retired build, then rolls out N builds of this tree's code, each as a
 * deploy pipeline would: the new build's workers start (without making
 * themselves current), it ramps to 10 % of new sagas, then takes all of them.
 * After the first deploy comes a rollback: the build before it is made current
 * again (its workers started again if they had been stopped), then the next
 * deploy rolls forward. A build that no longer takes new sagas keeps its
 * workers until no running saga is pinned to it; then they are stopped.
 *
 * The first deploy is the one that would break every saga in flight without
 * pinning: the retired build is the last one with patched() branches, and the
 * current code has none of them (test/replay/ checks that it cannot replay the
 * retired build's histories).
 */
export class RollingDeploy {
  readonly builds: RunBuild[];
  readonly records: DeployRecord[] = [];
  private current: RunBuild;
  private stopped = false;
  private watching?: Promise<void>;

  constructor(
    private readonly opts: {
      deploymentName: string;
      startBuildId: string;
      currentBuildId: string;
      deploys: number;
      workersPerBuild: number;
      env: NodeJS.ProcessEnv;
      logDir: string;
      runStartMs: number;
      /** A client to the dev server as it is now: the run restarts it. */
      client: () => Client;
      /** Called for each worker process created, so that kills can pick it. */
      onWorker: (worker: ManagedProcess) => void;
      log: (line: string) => void;
    },
  ) {
    const { deploys, currentBuildId } = opts;
    this.builds = [
      this.build(opts.startBuildId, 'retired'),
      ...Array.from({ length: deploys }, (_, i) => this.build(i === 0 ? currentBuildId : `${currentBuildId}.${i + 1}`, 'current')),
    ];
    this.current = this.builds[0]!;
  }

  /** The steps in the order they run: deploy 1, the rollback, then deploys 2 to N. */
  steps(): DeployStep[] {
    const [first, ...later] = this.builds.slice(1);
    if (!first) return [];
    return [
      { kind: 'deploy', buildId: first.buildId },
      { kind: 'rollback', buildId: this.builds[0]!.buildId },
      ...later.map((b) => ({ kind: 'deploy' as const, buildId: b.buildId })),
    ];
  }

  /** Starts the first build, makes it current, and watches for old builds to drain. */
  async start(): Promise<void> {
    this.current.serving = true;
    this.startWorkers(this.current);
    await this.promote(this.current, { ramp: false });
    this.watching = this.watchDrains();
  }

  async run(step: DeployStep): Promise<void> {
    const target = this.builds.find((b) => b.buildId === step.buildId)!;
    const record: DeployRecord = { kind: step.kind, buildId: target.buildId, from: this.current.buildId, atSeconds: this.now() };
    this.records.push(record);
    this.opts.log(`${step.kind} at ${record.atSeconds.toFixed(1)} s: build ${target.buildId} (from ${this.current.buildId})`);
    try {
      // From now on its workers stay, whatever its count of pinned sagas (none yet, for a new build).
      target.serving = true;
      if (target.workers.length === 0 || target.drainedAtSeconds !== null) {
        target.drainedAtSeconds = null;
        this.startWorkers(target);
      }
      const previous = this.current;
      // A rollback goes back at once: the build it returns to ran a moment ago.
      await this.promote(target, { ramp: step.kind === 'deploy', record });
      previous.serving = false;
      previous.servedOutAt = this.now();
      this.current = target;
    } catch (err) {
      record.error = String(err);
      throw err;
    }
  }

  /** Stops watching; the run stops the workers that are left. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
  }

  /** Per build: sagas started and ended on it (from their histories), and when it drained. */
  report(histories: { history: unknown }[]): BuildReport[] {
    const rows = new Map(
      this.builds.map((b) => [b.buildId, { buildId: b.buildId, code: b.code, started: 0, ended: 0, movedIn: 0, drainedAtSeconds: b.drainedAtSeconds }]),
    );
    for (const { history } of histories) {
      const { first, last } = buildsOf(history as History);
      const started = first ? rows.get(first) : undefined;
      const ended = last ? rows.get(last) : undefined;
      if (started) started.started++;
      if (ended) {
        ended.ended++;
        if (first !== last) ended.movedIn++;
      }
    }
    return [...rows.values()].map((r) => ({ ...r, drainedAtSeconds: r.drainedAtSeconds === null ? null : round(r.drainedAtSeconds) }));
  }

  private build(buildId: string, code: RunBuild['code']): RunBuild {
    return { buildId, code, workers: [], serving: false, servedOutAt: null, drainedAtSeconds: null };
  }

  private startWorkers(build: RunBuild): void {
    const env = { ...this.opts.env, DEPLOYMENT_NAME: this.opts.deploymentName, BUILD_ID: build.buildId, PROMOTE_BUILD_ON_START: 'false' };
    build.workers = Array.from({ length: this.opts.workersPerBuild }, (_, i) => {
      const name = `worker ${build.buildId} ${i + 1}`;
      const worker = new ManagedProcess(name, 'worker.ts', env, path.join(this.opts.logDir, `worker-${build.buildId}-${i + 1}.log`));
      worker.start();
      this.opts.onWorker(worker);
      return worker;
    });
  }

  /** Waits for the build's workers to have polled (the server knows a build only then), ramps it, then makes it current. */
  private async promote(build: RunBuild, { ramp, record }: { ramp: boolean; record?: DeployRecord }): Promise<void> {
    const ref: BuildRef = { deploymentName: this.opts.deploymentName, buildId: build.buildId };
    if (ramp) {
      // A ramp, like making a build current, waits for the server to know the build: once it is current, it is known.
      await this.retry(`build ${build.buildId} to poll`, async () =>
        Boolean((await describeDeployment(this.opts.client(), this.opts.deploymentName))?.builds.some((b) => b.buildId === build.buildId)),
      );
      await this.retry(`ramping build ${build.buildId}`, async () => (await rampBuild(this.opts.client(), ref, RAMP_PERCENT), true));
      if (record) record.rampedAtSeconds = round(this.now());
      await sleep(RAMP_SECONDS * 1000);
    }
    await makeCurrentOnceKnown(this.opts.client(), ref, { identity: 'chaos-deploy', timeoutMs: 120_000 });
    if (record) record.currentAtSeconds = round(this.now());
  }

  /** A control-plane call that the run's faults (a dev server restart) may refuse for a while. */
  private async retry(what: string, attempt: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (let i = 1; ; i++) {
      const done = await attempt().catch((err) => ((lastError = err), false));
      if (done) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
      if (i % 20 === 0) this.opts.log(`still waiting for ${what}${lastError ? ` (${lastError})` : ''}`);
      await sleep(500);
    }
  }

  /**
   * Stops the workers of a build that no longer takes new sagas once no
   * running saga is pinned to it, seen twice, 2 s apart. It also waits
   * MIN_SERVED_OUT_SECONDS after the build stopped taking sagas: a saga started
   * just before is pinned only once its first workflow task has completed.
   */
  private async watchDrains(): Promise<void> {
    let zeroSeen = new Set<string>();
    while (!this.stopped) {
      await sleep(2000);
      const seen = new Set<string>();
      for (const build of this.builds) {
        if (build.serving || build.workers.length === 0 || build.drainedAtSeconds !== null) continue;
        if (this.now() - (build.servedOutAt ?? 0) < MIN_SERVED_OUT_SECONDS) continue;
        const pinned = await pinnedSagas(this.opts.client(), { deploymentName: this.opts.deploymentName, buildId: build.buildId }).catch(() => -1);
        if (pinned !== 0) continue;
        if (!zeroSeen.has(build.buildId)) {
          seen.add(build.buildId);
          continue;
        }
        build.drainedAtSeconds = this.now();
        this.opts.log(`build ${build.buildId} drained at ${build.drainedAtSeconds.toFixed(1)} s: stopping its workers`);
        await Promise.all(build.workers.map((w) => w.stop()));
      }
      zeroSeen = seen;
    }
  }

  private now(): number {
    return (Date.now() - this.opts.runStartMs) / 1000;
  }
}

/** The build of a saga's first workflow task, and of its last: the build it started on, and the one it ended on. */
export function buildsOf(history: History): { first: string | null; last: string | null } {
  const versions = (history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId).filter((b): b is string => Boolean(b));
  return { first: versions[0] ?? null, last: versions.at(-1) ?? null };
}

const round = (s: number) => Math.round(s * 10) / 10;
