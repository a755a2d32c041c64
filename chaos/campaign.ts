// A chaos campaign (npm run chaos -- --campaign N): N runs one after the
// other, each on a fresh random seed, stopping at the first that fails. Here
// the pure part: a run's line in the campaign table, the table, and the
// command that runs a seed again.
import { randomInt } from 'node:crypto';
import type { Route } from './api-requests';
import { failedBecause } from './chaos-report';
import { seconds } from './latency';
import type { ChaosReport } from './run-chaos';

/** The routes the campaign table shows a p99 outside faults for (those with a bound), and their short names there. */
const TABLE_ROUTES: Route[] = ['POST /orders', 'GET /orders/:id', 'POST /orders/:id/cancel'];
const SHORT: Partial<Record<Route, string>> = { 'POST /orders': 'place', 'GET /orders/:id': 'get', 'POST /orders/:id/cancel': 'cancel' };

export type CampaignRow = {
  run: number;
  seed: number;
  coordination: string;
  /** The command that runs this seed again, alone. */
  rerun: string;
  /** The run could not run at all (the stack never came up): its error; the other fields are then left out. */
  error?: string;
  passed: boolean;
  failedBecause: string[];
  seconds?: number;
  orders?: number;
  /** Endings by status (the reasons summed up). */
  endings?: Record<string, number>;
  unexpected?: number;
  stuck?: number;
  clientFailures?: number;
  violations?: number;
  /** Each bounded route's p99 over the whole run, outside the faults, in ms. */
  p99OutsideFaultsMs?: Partial<Record<Route, number | null>>;
  /** The longest recovery (a) and (b) over the run's faults, in seconds; null if one never recovered. */
  maxRecovery?: { faults: number; latencySeconds: number | null; progressSeconds: number | null };
  logDir?: string;
};

/** A seed for the next run: from the system's random source, not the clock, so that two campaigns never share one. */
export function freshSeed(): number {
  return randomInt(1, 2 ** 31);
}

/** The campaign's line for a run that reported. */
export function campaignRow(run: number, rerun: string, r: ChaosReport): CampaignRow {
  const endings: Record<string, number> = {};
  for (const [ending, n] of Object.entries(r.endings)) {
    const status = ending.split(' ')[0]!;
    endings[status] = (endings[status] ?? 0) + n;
  }
  const maxOf = (values: (number | null)[]) => (values.includes(null) ? null : Math.max(0, ...(values as number[])));
  const reasons = failedBecause(r);
  return {
    run,
    seed: r.seed,
    coordination: r.coordination,
    rerun,
    passed: reasons.length === 0,
    failedBecause: reasons,
    seconds: r.seconds,
    orders: r.orders,
    endings,
    unexpected: r.unexpected.length,
    stuck: r.stuck.length,
    clientFailures: r.clientFailures.length,
    violations: r.violations.length,
    p99OutsideFaultsMs: Object.fromEntries(TABLE_ROUTES.map((route) => [route, r.latency.routes[route]?.outsideFaults.p99Ms ?? null])),
    maxRecovery: {
      faults: r.recovery.length,
      latencySeconds: maxOf(r.recovery.map((f) => f.latencySeconds)),
      progressSeconds: maxOf(r.recovery.map((f) => f.progress.seconds)),
    },
    logDir: r.logDir,
  };
}

/**
 * The campaign table, one line per run: unexpected endings / stuck orders /
 * client failures / invariant violations; p99 outside faults of POST /orders
 * (place), GET /orders/:id (get), POST /orders/:id/cancel (cancel); the
 * longest recovery (a) and (b) over the run's faults.
 */
export function campaignTable(rows: CampaignRow[]): string[] {
  const header = [
    'run',
    'seed',
    'coordination',
    'seconds',
    'endings',
    'unexp/stuck/client/viol',
    ...TABLE_ROUTES.map((r) => `p99 ${SHORT[r]}`),
    'max (a)',
    'max (b)',
    'result',
  ];
  const recovery = (row: CampaignRow, v: number | null | undefined) =>
    row.maxRecovery?.faults ? (v === null || v === undefined ? 'never' : `${v.toFixed(1)} s`) : '-';
  const lines = rows.map((row) => [
    String(row.run),
    String(row.seed),
    row.coordination,
    row.seconds === undefined ? '-' : String(row.seconds),
    row.endings
      ? Object.entries(row.endings)
          .sort()
          .map(([status, n]) => `${status} ${n}`)
          .join(', ')
      : '-',
    row.error ? '-' : `${row.unexpected}/${row.stuck}/${row.clientFailures}/${row.violations}`,
    ...TABLE_ROUTES.map((route) => {
      const v = row.p99OutsideFaultsMs?.[route];
      return v === null || v === undefined ? '-' : seconds(v);
    }),
    recovery(row, row.maxRecovery?.latencySeconds),
    recovery(row, row.maxRecovery?.progressSeconds),
    row.error ? 'could not run' : row.passed ? 'passed' : 'FAILED',
  ]);
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  return all.map((cells) =>
    cells
      .map((cell, i) => (i === 4 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The command line that runs one seed of the campaign again: the campaign's
 * own options, without --campaign and --seed, with this seed, and with the
 * orders the campaign ran (its default, 1,000, is not a single run's).
 */
export function rerunCommand(options: { name: string; value?: string }[], seed: number, orders: number): string {
  const kept = options.filter((o) => o.name !== 'campaign' && o.name !== 'seed');
  const args = kept.flatMap((o) => (o.value === undefined ? [`--${o.name}`] : [`--${o.name}`, quote(o.value)]));
  if (!kept.some((o) => o.name === 'orders')) args.unshift('--orders', String(orders));
  return ['npm', 'run', 'chaos', '--', ...args, '--seed', String(seed)].join(' ');
}

function quote(value: string): string {
  return /^[\w.,:/=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
