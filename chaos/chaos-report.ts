import { ROUTES } from './api-requests';
import { brokenBoundReason, seconds } from './latency';
import type { ChaosReport } from './run-chaos';

/** Long lists are cut in the printout; report.json in the log directory has them whole. */
const SHOWN = 20;

/**
 * Why the run failed, one reason per line; none means it passed. Client
 * failures count only when they lost an order (a POST never accepted); a
 * cancel that never got through shows anyway, as an unexpected ending.
 */
export function failedBecause(r: ChaosReport): string[] {
  const notPlaced = r.clientFailureCounts.place ?? 0;
  return [
    r.stuck.length > 0 && `${r.stuck.length} stuck`,
    r.unexpected.length > 0 && `${r.unexpected.length} unexpected endings`,
    r.violations.length > 0 && `${r.violations.length} invariant violations`,
    notPlaced > 0 && `${notPlaced} orders not placed`,
    r.replay.failed.length > 0 && `${r.replay.failed.length} histories failed to replay`,
    r.faults.failed.length > 0 && `${r.faults.failed.length} faults not injected`,
    r.errors.length > 0 && `${r.errors.length} errors in the run`,
    r.deadLetters > 0 && `${r.deadLetters} dead-lettered events`,
    nondeterministic(r) > 0 && `${nondeterministic(r)} sagas with a nondeterminism error`,
    r.deploys && r.deploys.builds.some((b) => b.movedIn > 0) && 'sagas that ended on another build than they started on',
    ...(r.latency.enforced ? r.latency.broken.map(brokenBoundReason) : []),
  ].filter((reason): reason is string => typeof reason === 'string');
}

/**
 * The chaos run's report, as `npm run chaos` and the bounded test print it.
 * `windows`: every 10 s window of every route, not only those that broke a bound.
 */
export function printReport(r: ChaosReport, out: (line: string) => void = console.log, { windows = false }: { windows?: boolean } = {}): void {
  const list = <T>(items: T[], line: (item: T) => string) =>
    items
      .slice(0, SHOWN)
      .map((item) => `\n    ${line(item)}`)
      .join('') + (items.length > SHOWN ? `\n    … ${items.length - SHOWN} more` : '');
  const placed = r.orders === r.planned ? `${r.orders} orders` : `${r.orders} of ${r.planned} orders placed`;
  const failed = failedBecause(r);

  out('');
  out(`Chaos run: ${placed} in ${r.seconds} s (seed ${r.seed}; logs and report.json in ${r.logDir})`);
  out(`  Endings (${r.coordination}):`);
  for (const [ending, n] of Object.entries(r.endings).sort()) {
    const split =
      r.coordination === 'mixed' ? `  (orchestrated ${r.endingsBy.orchestration[ending] ?? 0}, choreographed ${r.endingsBy.choreography[ending] ?? 0})` : '';
    out(`    ${String(n).padStart(4)}  ${ending}${split}`);
  }
  const byProcess = r.faults.workerProcesses > 1 ? ` (of ${r.faults.workerProcesses} worker processes: ${r.faults.workerKillsByProcess.join(', ')})` : '';
  out(
    `  Faults: ${r.faults.workerKills} worker SIGKILLs${byProcess}, ${r.faults.apiRestarts} API restarts, ${r.faults.serverRestarts} dev server restarts, ${r.faults.natsRestarts} NATS restarts`,
  );
  if (r.faults.failed.length > 0) out(`  Faults not injected: ${r.faults.failed.length}${list(r.faults.failed, (f) => `${f.what}: ${f.error}`)}`);
  out(`  Restarts by the supervisor: ${r.faults.workerProcesses > 1 ? 'workers' : 'worker'} ${r.faults.workerRestarts}, API ${r.faults.apiRestartsTotal}`);
  out(`  Step retries (attempts beyond the first): ${r.activityRetries}; client request retries: ${r.requestRetries}`);
  const slow = r.slowestOrder;
  out(
    `  Slowest order: ${slow ? `${slow.seconds} s, ${slow.orderId} (${slow.kind}), from its start to its end (its Temporal history, or its timeline of events)` : 'none ended'}`,
  );
  out(`  Last units: ${r.lastUnitsCompleted} of the concurrent orders for GPU-01 completed`);
  const counts = Object.entries(r.clientFailureCounts).map(([kind, n]) => `${kind} ${n}`);
  out(
    `  Client failures: ${r.clientFailures.length}${counts.length ? ` (${counts.join(', ')})` : ''}` +
      list(r.clientFailures, (f) => `${f.method} ${f.path} (${f.request}), ${f.attempts} attempts, last: ${oneLine(f.last)}`),
  );
  out(`  Unexpected endings: ${r.unexpected.length}${list(r.unexpected, (u) => `${u.orderId} (${u.kind}): ${u.ending}`)}`);
  out(`  Stuck orders: ${r.stuck.length}${list(r.stuck, (s) => `${s.orderId} (${s.kind}), last seen: ${oneLine(s.lastSeen)}`)}`);
  out(`  Sagas whose local-activity result crossed a workflow task: ${r.splitSagas}`);
  out(
    `  Sagas with failed workflow tasks: ${r.workflowTaskFailures.length}` +
      list(r.workflowTaskFailures, (w) => `${w.orderId} (${w.kind}): ${w.failures.map((f) => `${f.cause}: ${oneLine(f.message)}`).join('; ')}`),
  );
  out(
    `  Replay: ${r.replay.histories} histories, each against the build it ran on, ${r.replay.failed.length} failed${list(r.replay.failed, (f) => `${f.workflowId}: ${oneLine(f.error)}`)}`,
  );
  out(`  Dead-lettered events (choreography): ${r.deadLetters}`);
  if (r.deploys) printDeploys(r.deploys, out);
  if (r.errors.length > 0) out(`  Errors in the run: ${r.errors.length}${list(r.errors, oneLine)}`);
  out(`  Invariant violations: ${r.violations.length}${list(r.violations, (v) => `${v.invariant}  ${v.subject}: ${v.detail}`)}`);
  printLatency(r, out, windows);
  printRecovery(r, out);
  out(`  Result: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`}`);
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : seconds(v));
const s1 = (v: number | null) => (v === null ? 'never' : `${v.toFixed(1)} s`);

/** Rows of cells as columns; `left` names the columns aligned left (text), the others align right (figures). */
function table(rows: string[][], left: number[] = [0], indent = '    '): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (left.includes(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

function printLatency(r: ChaosReport, out: (line: string) => void, allWindows: boolean): void {
  const l = r.latency;
  const unreadable = l.unreadableLines > 0 ? `, ${l.unreadableLines} unreadable lines` : '';
  out(
    `  Latency by route (api.log: ${l.requests} requests${unreadable}; "outside faults" leaves out requests sent or in flight from a fault to ${l.faultGraceSeconds} s after it):`,
  );
  const routes = ROUTES.filter((route) => l.routes[route] || l.client[route]);
  const rows = [
    ['route', 'requests', 'p50', 'p99', '5xx', '503', 'aborted', 'outside faults', 'p99 outside', 'bound', 'client tries', 'timeouts', 'no answer'],
  ];
  for (const route of routes) {
    const s = l.routes[route];
    const c = l.client[route];
    rows.push([
      route,
      String(s?.count ?? 0),
      ms(s?.p50Ms),
      ms(s?.p99Ms),
      String(s?.errors5xx ?? 0),
      String(s?.errors503 ?? 0),
      String(s?.aborted ?? 0),
      String(s?.outsideFaults.count ?? 0),
      ms(s?.outsideFaults.p99Ms),
      ms(l.boundsMs[route]),
      String(c?.attempts ?? 0),
      String(c?.timeouts ?? 0),
      String(c?.connectionErrors ?? 0),
    ]);
  }
  for (const line of table(rows)) out(line);
  const broken = l.broken.reduce((n, b) => n + b.windows.length, 0);
  const verdict = broken === 0 ? 'kept' : l.enforced ? 'BROKEN' : 'broken (reported, not enforced in this run)';
  out(`  Bounds (p99 per ${l.windowSeconds} s window, outside faults): ${verdict}${broken > 0 ? `: ${l.broken.map(brokenBoundReason).join('; ')}` : ''}`);
  const shown = allWindows
    ? l.windows
    : l.windows.filter((w) => l.broken.some((b) => b.route === w.route && b.windows.some((bw) => bw.fromSeconds === w.fromSeconds)));
  if (shown.length === 0) return;
  out(allWindows ? '  Windows (by when the request was sent, since the run started):' : '  Windows that broke a bound (--windows prints them all):');
  const windowRows = [['from', 'route', 'requests', 'p50', 'p99', '5xx', '503', 'aborted', 'outside faults', 'p99 outside', 'bound']];
  for (const w of shown) {
    const bound = l.boundsMs[w.route];
    const over = bound !== undefined && w.outsideFaults.p99Ms !== null && w.outsideFaults.p99Ms > bound;
    windowRows.push([
      `${w.fromSeconds} s`,
      w.route,
      String(w.count),
      ms(w.p50Ms),
      ms(w.p99Ms),
      String(w.errors5xx),
      String(w.errors503),
      String(w.aborted),
      String(w.outsideFaults.count),
      `${ms(w.outsideFaults.p99Ms)}${over ? ' !' : ''}`,
      ms(bound),
    ]);
  }
  for (const line of table(windowRows, [1])) out(line);
}

function printRecovery(r: ChaosReport, out: (line: string) => void): void {
  if (r.recovery.length === 0) return;
  out('  Recovery per fault: (a) until the bounded routes answer within bounds again, (b) until every saga open at the fault has moved on:');
  const rows = [['at', 'fault', 'took', '(a)', '(b)', 'open sagas', 'median (b)', 'slowest saga']];
  for (const f of r.recovery) {
    const p = f.progress;
    const slowest =
      p.noProgress.length > 0
        ? `${p.noProgress.length} never moved: ${p.noProgress.slice(0, 3).join(', ')}`
        : p.slowest
          ? `${p.slowest.orderId} (${p.slowest.kind}, ${p.slowest.coordination})`
          : '-';
    rows.push([
      `${f.atSeconds.toFixed(1)} s`,
      f.error ? `${f.what} (not injected)` : f.what,
      `${f.seconds.toFixed(1)} s`,
      s1(f.latencySeconds),
      p.openSagas === 0 ? '-' : s1(p.seconds),
      String(p.openSagas),
      p.medianSeconds === null ? '-' : `${p.medianSeconds.toFixed(1)} s`,
      slowest,
    ]);
  }
  for (const line of table(rows, [1, 7])) out(line);
}

/** The first line, cut short: stacks and long server messages stay in report.json. */
function oneLine(text: string): string {
  const first = text.split('\n')[0]!;
  return first.length > 160 ? `${first.slice(0, 160)}…` : first;
}

/** Sagas whose history records a workflow task that failed on a nondeterminism error. */
function nondeterministic(r: ChaosReport): number {
  return r.workflowTaskFailures.filter((w) => w.failures.some((f) => f.cause === 'non_deterministic_error')).length;
}

function printDeploys(d: NonNullable<ChaosReport['deploys']>, out: (line: string) => void): void {
  out('  Deploys:');
  for (const s of d.steps) {
    const ramp = s.rampedAtSeconds !== undefined ? `, 10 % at ${s.rampedAtSeconds} s` : '';
    const current = s.currentAtSeconds !== undefined ? `, current at ${s.currentAtSeconds} s` : '';
    out(`    ${s.kind.padEnd(8)} ${s.from} -> ${s.buildId} at ${s.atSeconds.toFixed(1)} s${ramp}${current}${s.error ? `, failed: ${oneLine(s.error)}` : ''}`);
  }
  out('  Builds (sagas started on it / ended on it / ended on it after starting on another; drained):');
  for (const b of d.builds) {
    const drained = b.drainedAtSeconds === null ? 'not drained' : `drained at ${b.drainedAtSeconds} s`;
    out(`    ${b.buildId.padEnd(22)} ${b.code.padEnd(8)} ${String(b.started).padStart(5)} / ${String(b.ended).padStart(5)} / ${b.movedIn}; ${drained}`);
  }
  const p = d.protectedByPinning;
  out(
    `  Pinning: ${p.wouldFail} of the ${p.histories} sagas started on the retired build fail to replay against the current code (what they would have met unpinned)`,
  );
}
