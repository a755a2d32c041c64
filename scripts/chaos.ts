// npm run chaos: a mixed load through the real API while the worker is killed,
// the API restarted and the Temporal dev server restarted; then every order
// must end, every saga's history must replay and the invariant auditor must
// find nothing. Exits 1 otherwise (the report says why), 2 if it could not run
// at all (the stack never came up).
//
//   npm run chaos -- --orders 200 --worker-kills 5 --seed 42
//   npm run chaos -- --orders 60 --worker-processes 2 --worker-kills 2
//   npm run chaos -- --orders 1000 --coordination mixed --nats-restarts 2
//   npm run chaos -- --orders 1000 --worker-processes 2 --deploys 3   # a rolling deploy from the retired build, with a rollback
//   npm run chaos -- --campaign 5 --coordination mixed   # 5 runs of 1,000 orders, fresh seeds, stops at the first failure
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { campaignRow, campaignTable, freshSeed, rerunCommand, type CampaignRow } from '../chaos/campaign';
import { failedBecause, printReport } from '../chaos/chaos-report';
import { runChaos, type ChaosOptions } from '../chaos/run-chaos';

const { values, tokens } = parseArgs({
  tokens: true,
  options: {
    // 120 for one run, 1,000 for each run of a campaign.
    orders: { type: 'string' },
    // Side by side on the task queue, as WORKER_PROCESSES or compose replicas run them.
    'worker-processes': { type: 'string', default: '1' },
    'worker-kills': { type: 'string', default: '4' },
    'api-restarts': { type: 'string', default: '1' },
    'server-restarts': { type: 'string', default: '1' },
    // By default the load comes at about 4 orders a second, what the stack
    // sustains on two cores with its faults: 60 s for 120 orders, 250 s for 1,000.
    'load-seconds': { type: 'string' },
    'settle-seconds': { type: 'string' },
    'carrier-failure-rate': { type: 'string', default: process.env.CARRIER_FAILURE_RATE ?? '0.3' },
    seed: { type: 'string' },
    // orchestration (Temporal), choreography (the services' events) or mixed (both, in blocks of ten orders).
    coordination: { type: 'string', default: 'orchestration' },
    'nats-restarts': { type: 'string' },
    // Roll out N builds during the load, from the retired build, with a rollback after the first (docs/deploys.md).
    deploys: { type: 'string', default: '0' },
    // enforce: a route's p99 over its bound outside the faults fails the run; report: it is only printed.
    'latency-bounds': { type: 'string', default: 'enforce' },
    // Print every 10 s window of every route, not only those that broke a bound.
    windows: { type: 'boolean', default: false },
    // N runs, each on a fresh random seed, stopping at the first failure.
    campaign: { type: 'string' },
  },
});
const COORDINATIONS = ['orchestration', 'choreography', 'mixed'] as const;
const coordination =
  COORDINATIONS.find((c) => c === values.coordination) ?? refuse(`--coordination must be one of ${COORDINATIONS.join(', ')}, got ${values.coordination}`);
if (values['latency-bounds'] !== 'enforce' && values['latency-bounds'] !== 'report') {
  throw new Error(`--latency-bounds must be enforce or report, got ${values['latency-bounds']}`);
}
if (values.campaign !== undefined && values.seed !== undefined) throw new Error('--campaign draws a fresh seed for each run: leave out --seed');
// NATS carries every order's facts; for choreographed orders it carries the saga itself.
values['nats-restarts'] ??= coordination === 'orchestration' ? '0' : '2';
values.orders ??= values.campaign === undefined ? '120' : '1000';
const orders = Number(values.orders);
values['load-seconds'] ??= String(Math.max(60, Math.ceil(orders / 4)));
values['settle-seconds'] ??= String(Math.max(240, Math.ceil(orders * 0.36)));
const int = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${values[name]}`);
  return n;
};
const atLeastOne = (name: keyof typeof values) => {
  const n = int(name);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number from 1, got ${values[name]}`);
  return n;
};

// The replay at the end runs a worker in this process: its state changes are not news.
Runtime.install({ logger: new DefaultLogger('WARN') });

const options = (seed: number): ChaosOptions => ({
  orders: int('orders'),
  workerProcesses: atLeastOne('worker-processes'),
  workerKills: int('worker-kills'),
  apiRestarts: int('api-restarts'),
  serverRestarts: int('server-restarts'),
  loadSeconds: int('load-seconds'),
  settleSeconds: int('settle-seconds'),
  carrierFailureRate: int('carrier-failure-rate'),
  seed,
  coordination,
  natsRestarts: int('nats-restarts'),
  deploys: int('deploys'),
  enforceLatencyBounds: values['latency-bounds'] === 'enforce',
  log: (line) => console.log(`[chaos] ${line}`),
});

if (values.campaign === undefined) {
  runChaos(options(values.seed === undefined ? Date.now() % 1_000_000 : int('seed'))).then(
    (report) => {
      printReport(report, console.log, { windows: values.windows });
      process.exit(failedBecause(report).length === 0 ? 0 : 1);
    },
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
} else {
  campaign(atLeastOne('campaign')).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}

function refuse(message: string): never {
  throw new Error(message);
}

/** Runs after runs, each seed printed before it starts; the table at the end, and in campaign.json after every run. */
async function campaign(runs: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'checkout-chaos-campaign-'));
  const file = path.join(dir, 'campaign.json');
  const given = tokens.flatMap((t) => (t.kind === 'option' ? [{ name: t.name, value: t.value }] : []));
  const rows: CampaignRow[] = [];
  console.log(`[campaign] ${runs} runs of ${orders} orders (${coordination}); the table goes to ${file}`);
  let code = 0;
  for (let run = 1; run <= runs && code === 0; run++) {
    const seed = freshSeed();
    const rerun = rerunCommand(given, seed, orders);
    console.log(`[campaign] run ${run} of ${runs}: seed ${seed} (alone: ${rerun})`);
    try {
      const report = await runChaos(options(seed));
      printReport(report, console.log, { windows: values.windows });
      const row = campaignRow(run, rerun, report);
      rows.push(row);
      if (!row.passed) code = 1;
    } catch (err) {
      console.error(err);
      rows.push({ run, seed, coordination, rerun, error: String(err), passed: false, failedBecause: [`could not run: ${err}`] });
      code = 2;
    }
    writeFileSync(file, `${JSON.stringify({ runs, orders, coordination, command: process.argv.slice(2), rows }, null, 2)}\n`);
  }
  console.log('');
  console.log(
    `Campaign: ${rows.filter((r) => r.passed).length} of ${rows.length} runs passed${rows.length < runs ? ` (stopped at the first failure; ${runs} asked for)` : ''}`,
  );
  for (const line of campaignTable(rows)) console.log(`  ${line}`);
  const failed = rows.find((r) => !r.passed);
  if (failed) {
    console.log(`  Run ${failed.run} failed, seed ${failed.seed}: ${failed.failedBecause.join(', ')}`);
    console.log(`  Run it again: ${failed.rerun}`);
  }
  console.log(`  The table: ${file}`);
  return code;
}
