import type { ChaosReport } from './run-chaos';

/** The chaos run's report, as `npm run chaos` and the bounded test print it. */
export function printReport(r: ChaosReport, out: (line: string) => void = console.log): void {
  out('');
  out(`Chaos run: ${r.orders} orders in ${r.seconds} s (seed ${r.seed}; logs in ${r.logDir})`);
  out('  Endings:');
  for (const [ending, n] of Object.entries(r.endings).sort()) out(`    ${String(n).padStart(4)}  ${ending}`);
  out(`  Faults: ${r.faults.workerKills} worker SIGKILLs, ${r.faults.apiRestarts} API restarts, ${r.faults.serverRestarts} dev server restarts`);
  out(`  Restarts by the supervisor: worker ${r.faults.workerRestarts}, API ${r.faults.apiRestartsTotal}`);
  out(`  Activity retries: ${r.activityRetries}; client request retries: ${r.requestRetries}`);
  out(`  Last units: ${r.lastUnitsCompleted} of the concurrent orders for GPU-01 completed`);
  out(`  Unexpected endings: ${r.unexpected.length}${r.unexpected.map((u) => `\n    ${u.orderId} (${u.kind}): ${u.ending}`).join('')}`);
  out(`  Stuck orders: ${r.stuck.length}${r.stuck.map((id) => `\n    ${id}`).join('')}`);
  out(`  Invariant violations: ${r.violations.length}${r.violations.map((v) => `\n    ${v.invariant}  ${v.subject}: ${v.detail}`).join('')}`);
}
