// A closed loop: C concurrent callers, each starting its next saga as soon as
// the previous one reached its terminal result. Warm-up, then a measured window.
import { sleep } from '../lib/backoff';
import { cpuBetween, round, rssMiB, snapshot, type CpuReport, type Watched } from './cpu';

export type OneResult = { status: string; postMs?: number; eagerlyStarted?: boolean };
export type RunOne = (n: number) => Promise<OneResult>;

export type LevelResult = {
  concurrency: number;
  seconds: number;
  completed: number;
  perSecond: number;
  statuses: Record<string, number>;
  errors: number;
  /** Sagas whose first workflow task came back with the start call (eager start). */
  eagerlyStarted: number;
  /** Callers still waiting for a saga a minute after the window closed. */
  unfinished: number;
  firstError?: string;
  latencyMs: { p50: number; p95: number; p99: number; mean: number; max: number };
  postLatencyMs?: { p50: number; p95: number; p99: number };
  cpu: CpuReport;
  /** Resident memory per process at the end of the measured window, in MiB. */
  rssMiB: Record<string, number>;
  /** The measured window on the monotonic clock, in µs: the clock of V8's CPU profiles (see profile.ts). */
  windowUs: [number, number];
  /** CPU ms per completed saga, per process. */
  cpuMsPerSaga: Record<string, number>;
};

export async function runLevel(opts: {
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  runOne: RunOne;
  nextN: () => number;
  watched: () => Watched;
  dbNames: string[];
}): Promise<LevelResult> {
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  const latencies: number[] = [];
  const posts: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let eagerlyStarted = 0;
  let firstError: string | undefined;

  let finished = 0;
  const loop = async () => {
    while (phase !== 'stop') {
      const t0 = performance.now();
      try {
        const r = await opts.runOne(opts.nextN());
        if (phase === 'measure') {
          latencies.push(performance.now() - t0);
          if (r.postMs !== undefined) posts.push(r.postMs);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.eagerlyStarted) eagerlyStarted++;
        }
      } catch (err) {
        if (phase === 'measure') errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        await sleep(50);
      }
    }
    finished++;
  };
  const loops = Array.from({ length: opts.concurrency }, loop);
  await sleep(opts.warmupSeconds * 1000);
  const before = snapshot(opts.watched());
  const windowStart = monotonicUs();
  phase = 'measure';
  await sleep(opts.seconds * 1000);
  phase = 'stop';
  const windowEnd = monotonicUs();
  const after = snapshot(opts.watched());
  const rss = rssMiB(opts.watched());
  // A saga stuck in retries must not hang the run: give the rest a minute, then go on.
  await Promise.race([Promise.all(loops), sleep(60_000)]);
  const unfinished = opts.concurrency - finished;

  const wall = (after.at - before.at) / 1000;
  const cpu = cpuBetween(before, after, opts.dbNames);
  const completed = latencies.length;
  return {
    concurrency: opts.concurrency,
    seconds: round(wall, 2),
    completed,
    perSecond: round(completed / wall, 1),
    statuses,
    errors,
    eagerlyStarted,
    unfinished,
    firstError,
    latencyMs: stats(latencies),
    postLatencyMs: posts.length ? stats(posts) : undefined,
    cpu,
    rssMiB: rss,
    windowUs: [windowStart, windowEnd],
    cpuMsPerSaga: Object.fromEntries(Object.entries(cpu.ms).map(([k, v]) => [k, completed ? round(v / completed, 2) : 0])),
  };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!, 1) : 0);
  const mean = s.length ? round(s.reduce((a, b) => a + b, 0) / s.length, 1) : 0;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean, max: s.length ? round(s[s.length - 1]!, 1) : 0 };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
