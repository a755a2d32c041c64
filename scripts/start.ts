// `npm start`: the whole system on one machine with one command.
//
//   1. Temporal: use the server on TEMPORAL_ADDRESS if one answers, otherwise
//      start the dev server there, persisted to .data/temporal.db so workflows
//      survive a restart of npm start.
//   2. NATS (for notifications): use the server on NATS_URL if one answers,
//      otherwise start nats-server -js there if it is installed (streams kept
//      in .data/nats), otherwise warn: orders still work, and their facts wait
//      in the outbox until a NATS appears.
//   3. PostgreSQL: create the database if needed, migrate, seed the catalog.
//      The web app is built too (scripts/build-web.ts, offline, a second).
//   4. The worker and the API as child processes, as in production, with
//      their output prefixed [worker] / [api]. The API serves the web app.
//      WORKER_PROCESSES=N runs N workers, [worker 1] to [worker N], each with
//      metrics ports of its own (lib/worker-ports.ts).
//   5. Wait until the API is healthy and every worker polls, then say where
//      everything is.
//
// Ctrl-C (or SIGTERM) stops the children gracefully, then the dev server.
//
// Ctrl-C in a terminal signals the whole foreground process group, and the SDK
// starts the dev server in our group: it would stop at the same moment as the
// worker, under its feet. So this process only supervises: it re-runs itself in
// a session of its own (the "inner" run, which does the work) and passes on
// the first signal only.
import { Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { sleep } from '../lib/backoff';
import { codecAuthToken, DEV_OPERATOR_TOKEN, loadConfig, operatorToken, orderSecretKey } from '../lib/config';
import { workerMetricsPorts } from '../lib/worker-ports';
import { buildWeb, describeBuild } from './build-web';
import { migrate } from './db/migrate';
import { seedCatalog } from './db/seed';
import { startDevServer, type DevServer } from './dev-server';
import { findNatsServer, probeNats, startNatsServer, type NatsServer } from './nats-server';
import { isAlive } from './go-install';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** How long a child gets to finish in-flight work after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

const log = (m: string) => console.log(`[start] ${m}`);

type Child = { name: string; proc: ChildProcess; exited: Promise<void> };
const children: Child[] = [];
let devServer: DevServer | undefined;
let natsServer: NatsServer | undefined;
let stopping = false;

const INNER_FLAG = 'CHECKOUT_SAGA_START_INNER';

function supervise(): void {
  const inner = spawn(TSX, [__filename], { env: { ...process.env, [INNER_FLAG]: String(process.pid) }, stdio: 'inherit', detached: true });
  let forwarded = false;
  const forward = (signal: NodeJS.Signals) => {
    // npm, tsx and the terminal may each deliver the same Ctrl-C: pass on one.
    if (forwarded) return;
    forwarded = true;
    inner.kill(signal);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
  inner.on('error', (err) => {
    console.error(`[start] could not run ${__filename}: ${err.message}`);
    process.exit(1);
  });
  inner.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main(): Promise<void> {
  // npm start is the developer's stack: development mode, with the public dev
  // operator token, unless NODE_ENV says otherwise. The children inherit it.
  process.env.NODE_ENV ??= 'development';
  const config = loadConfig();
  // Fail before starting anything when the API would refuse its token anyway.
  const token = operatorToken(config);
  orderSecretKey(config);
  // And when two workers would serve metrics on one port.
  const workerPorts = workerMetricsPorts(config.metrics, config.worker.processes);
  // One worker keeps the plain [worker] prefix it always had.
  const workerName = (i: number) => (workerPorts.length === 1 ? 'worker' : `worker ${i + 1}`);
  // With a payload key, a codec server lets the Web UI show payloads in clear.
  // The UI can send no token of ours (only its own login's), so locally the
  // codec server runs without one, on 127.0.0.1 only; outside development or
  // with CODEC_AUTH_TOKEN set, it requires one as configured.
  const codecAuth = config.payloadKeys ? (!config.development || config.codec.authToken !== undefined ? config.codec.authToken : 'none') : undefined;
  if (config.payloadKeys) codecAuthToken({ ...config, codec: { ...config.codec, authToken: codecAuth } });
  const codecUrl = config.payloadKeys ? `http://127.0.0.1:${config.codec.port}` : undefined;
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0));
  // If our output goes away (a closed terminal, a `| tee` killed by the same
  // Ctrl-C), writing would throw EPIPE and kill us before we stop the others.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  // If the supervisor is killed outright (kill -9), do not live on without it.
  const supervisor = Number(process.env[INNER_FLAG]);
  setInterval(() => !isAlive(supervisor) && void shutdown('npm start went away', 1), 1000).unref();

  // --- 1. Temporal -----------------------------------------------------------
  let temporalAddress = config.temporal.address;
  let uiUrl = config.temporal.uiUrl;
  const [host, portText] = splitHostPort(temporalAddress);
  if (await tcpAnswers(host, Number(portText))) {
    log(`using the Temporal server already answering on ${temporalAddress}`);
    if (codecUrl) log(`its Web UI decodes payloads only if started with --ui-codec-endpoint ${codecUrl} or set so in its Data Encoder settings`);
  } else {
    if (!isLocalHost(host)) {
      throw new Error(`nothing answers on TEMPORAL_ADDRESS=${temporalAddress}, and a dev server can only be started on this machine`);
    }
    const uiPort = Number(new URL(config.temporal.uiUrl).port) || 8233;
    log(`no Temporal server on ${temporalAddress}: starting the dev server (data in .data/temporal.db)`);
    devServer = await startDevServer({
      port: Number(portText),
      uiPort,
      dbFilename: path.join(ROOT, '.data', 'temporal.db'),
      uiCodecEndpoint: codecUrl,
      log: (m) => console.log(`[temporal] ${m}`),
    });
    temporalAddress = devServer.address;
    // An explicit TEMPORAL_UI_URL (e.g. behind a proxy) is kept for the links the API hands out.
    if (!process.env.TEMPORAL_UI_URL && devServer.uiUrl) uiUrl = devServer.uiUrl;
  }
  if (stopping) return;

  // --- 2. NATS -------------------------------------------------------------------
  const natsUrl = await prepareNats(config.natsUrl);
  if (stopping) return;

  // --- 3. Database -------------------------------------------------------------
  log(`migrating and seeding ${redact(config.databaseUrl)}`);
  try {
    const { applied } = await migrate(config.databaseUrl, { log: (m) => console.log(`[db] ${m}`) });
    log(applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date');
    await seedCatalog(config.databaseUrl);
  } catch (err) {
    throw new Error(
      `could not prepare the database at ${redact(config.databaseUrl)}: ${errorText(err)}\n` + 'Is PostgreSQL running? Set DATABASE_URL to point elsewhere.',
    );
  }
  if (stopping) return;

  const web = await buildWeb();
  log(`web app ${describeBuild(web)}`);

  // --- 4. Worker and API -------------------------------------------------------
  if (await tcpAnswers('127.0.0.1', config.port)) {
    throw new Error(`port ${config.port} is already in use (another npm start?); set PORT to use another one`);
  }
  if (codecUrl && (await tcpAnswers('127.0.0.1', config.codec.port))) {
    throw new Error(`port ${config.codec.port} is already in use; set CODEC_PORT to run the codec server on another one`);
  }
  // A worker that cannot bind its metrics port dies, and takes everything with
  // it: say which port, and which variable moves it, before starting any.
  for (const [i, ports] of workerPorts.entries()) {
    for (const [port, variable] of [
      [ports.workerPort, 'WORKER_METRICS_PORT'],
      [ports.temporalCorePort, 'TEMPORAL_METRICS_PORT'],
    ] as const) {
      if (port > 0 && (await tcpAnswers('127.0.0.1', port))) {
        throw new Error(`port ${port}, for the metrics of the ${workerName(i)}, is already in use (another npm start?); set ${variable} to move it, or 0`);
      }
    }
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    TEMPORAL_UI_URL: uiUrl,
    PORT: String(config.port),
    NATS_URL: natsUrl.url,
  };
  delete childEnv[INNER_FLAG];
  const spawnedAt = Date.now();
  for (const [i, ports] of workerPorts.entries()) {
    startChild(workerName(i), ['worker.ts'], {
      ...childEnv,
      WORKER_METRICS_PORT: String(ports.workerPort),
      TEMPORAL_METRICS_PORT: String(ports.temporalCorePort),
    });
  }
  startChild('api', ['api/server.ts'], childEnv);
  if (codecUrl) {
    startChild('codec', ['api/codec-server.ts'], { ...childEnv, CODEC_AUTH_TOKEN: codecAuth ?? '' });
  }

  // --- 5. Ready ------------------------------------------------------------------
  const apiUrl = `http://127.0.0.1:${config.port}`;
  if (!(await waitForHealthy(`${apiUrl}/healthz`, 90_000))) {
    if (stopping) return;
    throw new Error(`the API did not become healthy on ${apiUrl}/healthz within 90 s`);
  }
  const polling = await waitForWorkers(temporalAddress, config.temporal.namespace, config.temporal.taskQueue, spawnedAt, workerPorts.length, 90_000);
  if (stopping) return;
  if (polling === 0) {
    log(`warning: no worker is polling task queue "${config.temporal.taskQueue}" yet; orders will wait until one does`);
  } else if (polling < workerPorts.length) {
    log(`warning: ${polling} of ${workerPorts.length} workers poll task queue "${config.temporal.taskQueue}"; the others may still be starting`);
  }
  if (stopping) return;

  const metricsUrl = (port: number) => (port > 0 ? `http://127.0.0.1:${port}/metrics` : 'off');
  // Port 0 for the application metrics is any free port, which the worker's "Worker polling" line names.
  const workerMetrics = (i: number) =>
    `${workerName(i)} ${workerPorts[i]!.workerPort > 0 ? metricsUrl(workerPorts[i]!.workerPort) : `a free port (see its [${workerName(i)}] "Worker polling" line)`}, ` +
    `Temporal SDK ${metricsUrl(workerPorts[i]!.temporalCorePort)}`;
  const body = JSON.stringify({
    customerId: 'cust_1',
    items: [{ sku: 'KB-001', quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
  });
  console.log(
    [
      '',
      '  Checkout saga is up.',
      '',
      `  Store:        ${apiUrl}/ (orders are drawn live on their pages)`,
      `  Operations:   ${apiUrl}/ops`,
      `  API:          ${apiUrl}`,
      `  Temporal UI:  ${uiUrl}`,
      `  Temporal:     ${temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
      ...(codecUrl ? [`  Codec:        ${codecUrl} (payloads encrypted with key ${config.payloadKeys!.current.id}; the UI decrypts through it)`] : []),
      ...(workerPorts.length === 1
        ? [`  Metrics:      API ${metricsUrl(config.metrics.apiPort)}, ${workerMetrics(0)}`]
        : [
            `  Workers:      ${workerPorts.length} processes on task queue ${config.temporal.taskQueue} (WORKER_PROCESSES)`,
            `  Metrics:      API ${metricsUrl(config.metrics.apiPort)}`,
            ...workerPorts.map((_, i) => `                ${workerMetrics(i)}`),
          ]),
      `  Traces:       ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `exported to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://localhost:4318)'}`,
      // A configured token is a secret and stays out of the terminal; the dev default is public anyway.
      `  Operator:     ${token === DEV_OPERATOR_TOKEN ? `Authorization: Bearer ${token}` : 'Authorization: Bearer $OPERATOR_TOKEN'} (GET /orders, POST /orders/:id/resolve)`,
      `  NATS:         ${natsUrl.url} ${natsUrl.ok ? '(JetStream)' : '(NOT REACHABLE: notifications wait in the outbox)'}`,
      '',
      '  Place an order:',
      '',
      `  curl -s -X POST ${apiUrl}/orders \\`,
      `    -H 'Content-Type: application/json' \\`,
      `    -d '${body}'`,
      '',
      "  The answer carries the order's secret: read it with",
      `  curl -s ${apiUrl}/orders/<orderId> -H 'Authorization: Bearer <secret>'`,
      '  or open links.page in a browser. Its e-mail shows up there under services.notifications.',
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** Runs `tsx <args>` with its output prefixed by its name. */
function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): void {
  const proc = spawn(TSX, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a forced stop also takes the node
    // process that tsx runs the script in.
    detached: true,
  });
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) =>
    readline.createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
  prefix(proc.stdout!, process.stdout);
  prefix(proc.stderr!, process.stderr);

  const exited = new Promise<void>((resolve) => {
    proc.on('error', (err) => {
      console.error(`[start] could not run the ${name}: ${err.message}`);
      resolve();
      void shutdown(`${name} failed to start`, 1);
    });
    proc.on('exit', (code, signal) => {
      resolve();
      if (stopping) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      console.error(`[start] the ${name} ${how} unexpectedly; stopping everything (see the [${name}] lines above)`);
      void shutdown(`${name} died`, 1);
    });
  });
  children.push({ name, proc, exited });
}

/** Stops the children (gracefully, then by force), then the dev server; exits with `code`. Runs once. */
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return; // npm, tsx and the terminal may each deliver the same Ctrl-C.
  stopping = true;
  log(`stopping (${reason})...`);
  await Promise.all(
    children.map(async ({ name, proc, exited }) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM'); // tsx passes it on to the script, which drains its work.
      const timer = setTimeout(() => {
        log(`the ${name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
        if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
  if (natsServer) {
    log('stopping nats-server');
    await natsServer.stop().catch((err) => console.error(`[start] nats-server stop: ${errorText(err)}`));
  }
  if (devServer) {
    log('stopping the Temporal dev server');
    await devServer.teardown().catch((err) => console.error(`[start] dev server teardown: ${errorText(err)}`));
  }
  process.exit(code);
}

// --- helpers ---------------------------------------------------------------------

/**
 * The NATS the worker should use. Never fatal: without one, the worker keeps
 * retrying and the facts wait in the outbox, so we only make that loud.
 */
async function prepareNats(url: string): Promise<{ url: string; ok: boolean }> {
  const status = await probeNats(url);
  if (status === 'jetstream') {
    log(`using NATS with JetStream at ${url}`);
    return { url, ok: true };
  }
  if (status === 'no-jetstream') {
    log(`warning: NATS at NATS_URL=${url} answers but has no JetStream (start it with -js); notifications will be sent once it has`);
    return { url, ok: false };
  }
  const first = url.split(',')[0]!;
  const { hostname, port } = new URL(first.includes('://') ? first : `nats://${first}`);
  const bin = findNatsServer();
  if (isLocalHost(hostname) && bin) {
    log(`no NATS at ${url}: starting ${bin} -js (streams in .data/nats)`);
    try {
      const dir = path.join(ROOT, '.data', 'nats');
      natsServer = await startNatsServer({ storeDir: dir, port: Number(port) || 4222, logFile: path.join(dir, 'nats-server.log') });
      log(`nats-server with JetStream on ${natsServer.url}`);
      return { url: natsServer.url, ok: true };
    } catch (err) {
      log(`warning: could not start nats-server: ${errorText(err)}`);
    }
  }
  log(
    `warning: NATS is not reachable at NATS_URL=${url}${bin ? '' : ' and nats-server is not installed'}. ` +
      'Orders still complete; their facts wait in the outbox and notifications will be sent once NATS is reachable.',
  );
  return { url, ok: false };
}

function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  if (i < 0) return [address, '7233'];
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), address.slice(i + 1)];
}

function isLocalHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host);
}

/** True when something accepts a TCP connection there within a second. */
function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls until the URL answers 2xx; false after timeoutMs or once we are stopping. */
async function waitForHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(300);
  }
  return false;
}

/**
 * Polls Temporal until `expected` workers (by identity, one per process) have
 * polled the task queue since we spawned them; returns how many did.
 */
async function waitForWorkers(address: string, namespace: string, taskQueue: string, since: number, expected: number, timeoutMs: number): Promise<number> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline && !stopping) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
      });
      // A persisted server remembers pollers of the previous run for a while.
      seen = new Set(pollers?.filter((p) => tsToMs(p.lastAccessTime) >= since - 1000).map((p) => p.identity)).size;
      if (seen >= expected) return seen;
      await sleep(500);
    }
    return seen;
  } finally {
    await connection.close();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return err.errors.map(errorText).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}

if (process.env[INNER_FLAG]) {
  main().catch((err) => {
    console.error(`[start] ${errorText(err)}`);
    void shutdown('startup failed', 1);
  });
} else {
  supervise();
}
