import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { audit } from '../audit/audit';
import { sleep } from '../lib/backoff';
import type { Violation } from '../audit/invariants';
import { DEV_OPERATOR_TOKEN, loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { migrate } from '../scripts/db/migrate';
import { withScratchDatabase } from '../scripts/db/scratch';
import { seedCatalog } from '../scripts/db/seed';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { createServices } from '../services';
import { ManagedProcess } from './managed-process';
import { EXPECTED_ENDINGS, LAST_UNITS_SKU, planOrders, type OrderKind, type PlannedOrder } from './order-mix';

export type ChaosOptions = {
  orders: number;
  workerKills: number;
  apiRestarts: number;
  serverRestarts: number;
  /** The window in which orders are placed and faults injected. */
  loadSeconds: number;
  /** How long to wait, after the load, for every order to end. */
  settleSeconds: number;
  carrierFailureRate: number;
  seed: number;
  log?: (line: string) => void;
};

export type ChaosReport = {
  seed: number;
  orders: number;
  endings: Record<string, number>;
  unexpected: { orderId: string; kind: OrderKind; ending: string }[];
  faults: { workerKills: number; apiRestarts: number; serverRestarts: number; workerRestarts: number; apiRestartsTotal: number };
  activityRetries: number;
  requestRetries: number;
  stuck: string[];
  lastUnitsCompleted: number;
  violations: Violation[];
  logDir: string;
  seconds: number;
};

const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED', 'RESOLVED_MANUALLY']);

/**
 * Drives a mixed load through the real API while killing the worker (SIGKILL),
 * restarting the API and restarting the Temporal dev server (which keeps its
 * state in a file); then waits for every order to end and audits the stores.
 */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const random = mulberry32(opts.seed);
  const logDir = mkdtempSync(path.join(tmpdir(), 'checkout-chaos-'));
  const base = loadConfig();

  return withScratchDatabase(
    base.databaseUrl,
    async (databaseUrl) => {
      await migrate(databaseUrl, { log: () => undefined });
      await seedCatalog(databaseUrl);

      const temporalPort = await freePort();
      const dbFilename = path.join(logDir, 'temporal.db');
      // Its complaints while we kill things under it are expected: keep only its errors.
      const startServer = () =>
        startDevServer({ port: temporalPort, dbFilename, serverLogLevel: 'error', log: (m) => log(`[temporal] ${m}`) });
      let server: DevServer = await startServer();
      const apiPort = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: 'checkout-chaos',
        PORT: String(apiPort),
        CARRIER_FAILURE_RATE: String(opts.carrierFailureRate),
        // Short deadlines, so that a cancelled or stuck order shows within the run.
        SHIPPING_SLA_SECONDS: '60',
        ORDER_TTL_SECONDS: '120',
        RATE_LIMIT_PER_MINUTE: '1000000',
        // Any free ports: a running npm start holds the defaults.
        API_METRICS_PORT: '0',
        WORKER_METRICS_PORT: '0',
        TEMPORAL_METRICS_PORT: '0',
        // A stream of its own, so that another stack on the same NATS cannot take its facts.
        NATS_STREAM: `CHAOS_${randomBytes(4).toString('hex')}`,
        OPERATOR_TOKEN: DEV_OPERATOR_TOKEN,
        NODE_ENV: 'development',
      };
      const worker = new ManagedProcess('worker', 'worker.ts', env, path.join(logDir, 'worker.log'));
      const api = new ManagedProcess('api', 'api/server.ts', env, path.join(logDir, 'api.log'));
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const db = createDb(databaseUrl, 4);
      const faults = { workerKills: 0, apiRestarts: 0, serverRestarts: 0 };
      let requestRetries = 0;

      try {
        worker.start();
        api.start();
        await until(() => healthy(apiUrl), 90_000, 'the API to become healthy');
        log(`stack up: API ${apiUrl}, Temporal ${server.address}, logs in ${logDir}`);

        // --- load and faults, side by side ----------------------------------------
        const plan = planOrders(opts.orders, randomBytes(3).toString('hex'));
        const loadMs = opts.loadSeconds * 1000;
        const at = (n: number) => Array.from({ length: n }, () => 0.1 * loadMs + random() * 0.7 * loadMs).sort((a, b) => a - b);
        const faultSchedule = [
          ...at(opts.workerKills).map((ms) => ({ ms, what: 'kill the worker', act: () => worker.kill().then(() => faults.workerKills++) })),
          ...at(opts.apiRestarts).map((ms) => ({ ms, what: 'restart the API', act: () => api.restartGracefully().then(() => faults.apiRestarts++) })),
          ...at(opts.serverRestarts).map((ms) => ({
            ms,
            what: 'restart the Temporal dev server',
            act: async () => {
              await server.teardown();
              server = await startServer();
              faults.serverRestarts++;
            },
          })),
        ].sort((a, b) => a.ms - b.ms);
        const faulting = (async () => {
          const t0 = Date.now();
          for (const fault of faultSchedule) {
            await sleep(fault.ms - (Date.now() - t0));
            log(`fault at ${((Date.now() - started) / 1000).toFixed(1)} s: ${fault.what}`);
            await fault.act();
          }
        })();

        const placed: { orderId: string; kind: OrderKind }[] = [];
        const send = async (method: string, url: string, body?: object, headers: Record<string, string> = {}) => {
          // A client that meets a restarting API retries, with the same Idempotency-Key.
          for (let attempt = 1; ; attempt++) {
            try {
              const res = await fetch(`${apiUrl}${url}`, {
                method,
                headers: { 'content-type': 'application/json', ...headers },
                body: body && JSON.stringify(body),
                signal: AbortSignal.timeout(10_000),
              });
              if (res.status < 500) return res;
            } catch {
              // Connection refused or reset: the API is restarting.
            }
            requestRetries++;
            if (attempt >= 120) throw new Error(`${method} ${url} failed ${attempt} times`);
            await sleep(500);
          }
        };
        const placeOne = async (order: PlannedOrder, delayMs: number) => {
          await sleep(delayMs);
          const res = await send('POST', '/orders', order.body, { 'Idempotency-Key': order.idempotencyKey });
          if (res.status !== 202) throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
          const { orderId } = (await res.json()) as { orderId: string };
          placed.push({ orderId, kind: order.kind });
          if (order.kind === 'cancelled') {
            await sleep(1000 + random() * 2000);
            const cancel = await send('POST', `/orders/${orderId}/cancel`);
            if (cancel.status !== 202) log(`cancel of ${orderId} answered ${cancel.status}`);
          }
        };
        // Spread over the load window; the last-units orders go out together.
        await Promise.all(
          plan.map((order, i) => placeOne(order, order.kind === 'last-units' ? 0.5 * loadMs : (i / plan.length) * 0.8 * loadMs)),
        );
        await faulting;

        // --- wait for every order to end ----------------------------------------------
        const finals = new Map<string, { status: string; reason?: string; retries: number }>();
        const deadline = Date.now() + opts.settleSeconds * 1000;
        while (finals.size < placed.length && Date.now() < deadline) {
          for (const { orderId } of placed) {
            if (finals.has(orderId)) continue;
            const res = await send('GET', `/orders/${orderId}`);
            if (res.status !== 200) continue;
            const state = (await res.json()) as { status: string; failure?: { reason: string }; steps: { attempts: number }[] };
            if (TERMINAL.has(state.status)) {
              const retries = state.steps.reduce((n, s) => n + Math.max(s.attempts - 1, 0), 0);
              finals.set(orderId, { status: state.status, reason: state.failure?.reason, retries });
            }
          }
          if (finals.size < placed.length) await sleep(1000);
        }

        // --- notifications, then audit and report ------------------------------------------
        // Each ended order's fact goes outbox → NATS → inbox; wait for them, then
        // audit with no grace: every ended order must have exactly one by now.
        const services = createServices(db);
        await until(
          async () => new Set((await services.notifications.allNotifications()).map((n) => n.orderId)).size >= finals.size,
          60_000,
          'a notification for every ended order',
        ).catch((err) => log(String(err)));
        const { violations } = await audit(services, { maxOpenSeconds: 120 + 120, notificationGraceSeconds: 0 });
        const endings: Record<string, number> = {};
        const unexpected: ChaosReport['unexpected'] = [];
        let lastUnitsCompleted = 0;
        for (const { orderId, kind } of placed) {
          const final = finals.get(orderId);
          if (!final) continue;
          const ending = final.reason ? `${final.status} ${final.reason}` : final.status;
          endings[ending] = (endings[ending] ?? 0) + 1;
          if (!EXPECTED_ENDINGS[kind].includes(ending)) unexpected.push({ orderId, kind, ending });
          if (kind === 'last-units' && final.status === 'COMPLETED') lastUnitsCompleted++;
        }
        const stock = await services.inventory.stockLevels();
        log(`${LAST_UNITS_SKU} after the run: ${JSON.stringify(stock.find((p) => p.sku === LAST_UNITS_SKU))}`);
        return {
          seed: opts.seed,
          orders: placed.length,
          endings,
          unexpected,
          faults: { ...faults, workerRestarts: worker.restarts, apiRestartsTotal: api.restarts },
          activityRetries: [...finals.values()].reduce((n, f) => n + f.retries, 0),
          requestRetries,
          stuck: placed.filter((p) => !finals.has(p.orderId)).map((p) => p.orderId),
          lastUnitsCompleted,
          violations,
          logDir,
          seconds: Math.round((Date.now() - started) / 1000),
        };
      } finally {
        await Promise.all([worker.stop(), api.stop()]);
        await db.$disconnect();
        await server.teardown();
      }
    },
    'chaos',
  );
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}


/**
 * A seeded PRNG (mulberry32), so that a run's fault times can be reproduced
 * with --seed. Eight lines: not worth a dependency.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
