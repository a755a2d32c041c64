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
  ].filter((reason): reason is string => typeof reason === 'string');
}

/** The chaos run's report, as `npm run chaos` and the bounded test print it. */
export function printReport(r: ChaosReport, out: (line: string) => void = console.log): void {
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
    `  Replay: ${r.replay.histories} histories against the current code, ${r.replay.failed.length} failed${list(r.replay.failed, (f) => `${f.workflowId}: ${oneLine(f.error)}`)}`,
  );
  out(`  Dead-lettered events (choreography): ${r.deadLetters}`);
  if (r.errors.length > 0) out(`  Errors in the run: ${r.errors.length}${list(r.errors, oneLine)}`);
  out(`  Invariant violations: ${r.violations.length}${list(r.violations, (v) => `${v.invariant}  ${v.subject}: ${v.detail}`)}`);
  out(`  Result: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`}`);
}

/** The first line, cut short: stacks and long server messages stay in report.json. */
function oneLine(text: string): string {
  const first = text.split('\n')[0]!;
  return first.length > 160 ? `${first.slice(0, 160)}…` : first;
}
