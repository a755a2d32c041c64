// npm run chaos: a mixed load through the real API while the worker is killed,
// the API restarted and the Temporal dev server restarted; then every order
// must end, every saga's history must replay and the invariant auditor must
// find nothing. Exits 1 otherwise (the report says why), 2 if it could not run
// at all (the stack never came up).
//
//   npm run chaos -- --orders 200 --worker-kills 5 --seed 42
//   npm run chaos -- --orders 60 --worker-processes 2 --worker-kills 2
//   npm run chaos -- --orders 1000 --coordination mixed --nats-restarts 2
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { failedBecause, printReport } from '../chaos/chaos-report';
import { runChaos } from '../chaos/run-chaos';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '120' },
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
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    // orchestration (Temporal), choreography (the services' events) or mixed (both, in blocks of ten orders).
    coordination: { type: 'string', default: 'orchestration' },
    'nats-restarts': { type: 'string' },
  },
});
const COORDINATIONS = ['orchestration', 'choreography', 'mixed'] as const;
const coordination = COORDINATIONS.find((c) => c === values.coordination);
if (!coordination) throw new Error(`--coordination must be one of ${COORDINATIONS.join(', ')}, got ${values.coordination}`);
// NATS carries every order's facts; for choreographed orders it carries the saga itself.
values['nats-restarts'] ??= coordination === 'orchestration' ? '0' : '2';
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

runChaos({
  orders: int('orders'),
  workerProcesses: atLeastOne('worker-processes'),
  workerKills: int('worker-kills'),
  apiRestarts: int('api-restarts'),
  serverRestarts: int('server-restarts'),
  loadSeconds: int('load-seconds'),
  settleSeconds: int('settle-seconds'),
  carrierFailureRate: int('carrier-failure-rate'),
  seed: int('seed'),
  coordination,
  natsRestarts: int('nats-restarts'),
  log: (line) => console.log(`[chaos] ${line}`),
}).then(
  (report) => {
    printReport(report);
    process.exit(failedBecause(report).length === 0 ? 0 : 1);
  },
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
