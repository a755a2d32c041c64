// Restate (restate-server from npm, the SDK endpoint in this process) running
// the same 5-step workload over this application's services.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { createDb } from '../../lib/db';
import { stopProcess } from '../../scripts/child-process';
import { freePort, waitForHttp } from '../../scripts/dev-server';
import { createServices } from '../../services';
import { BusinessError } from '../../services/errors';
import { countryFor, runBenchSaga, type BenchInput, type BenchResult } from '../saga';
import type { Target } from '../targets';
import { orderIdFor } from '../targets';
import { benchSteps } from '../workload';

/** Node 20 lacks Promise.withResolvers, which the SDK uses: load this before the SDK. */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (P.withResolvers) return;
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export async function restateTarget(opts: { dbUrl: string; pool: number; prefix: string; dataDir: string }): Promise<Target> {
  polyfillWithResolvers();
  // One log line per invocation would cost CPU the others do not spend.
  process.env.RESTATE_LOGGING ??= 'ERROR';
  const restate = await import('@restatedev/restate-sdk');
  const db = createDb(opts.dbUrl, opts.pool);
  const steps = benchSteps(createServices(db));

  const bench = restate.service({
    name: 'bench',
    handlers: {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      saga: async (ctx: any, input: BenchInput): Promise<BenchResult> =>
        runBenchSaga(input, (step, arg) =>
          ctx.run(step, async () => {
            try {
              return await steps[step](arg);
            } catch (err) {
              // A business "no" ends the step for good; anything else Restate retries.
              // The message is the reason code: it is what survives Restate's journal.
              if (err instanceof BusinessError) throw new restate.TerminalError(err.code, { errorCode: 409 });
              throw err;
            }
          }),
        ),
    },
  });
  const endpointPort = await freePort();
  const endpoint = http2.createServer(restate.createEndpointHandler({ services: [bench] }));
  await new Promise<void>((resolve) => endpoint.listen(endpointPort, '127.0.0.1', resolve));

  const [ingress, admin, fabric] = [await freePort(), await freePort(), await freePort()];
  const baseDir = mkdtempSync(path.join(opts.dataDir, 'restate-'));
  // The binary is restate-server's own dependency (bench/.npmrc keeps it under that package), so it is
  // resolved from there; spawning it directly, not through the package's node wrapper, keeps its pid for the CPU column.
  const serverDir = path.dirname(require.resolve('@restatedev/restate-server/package.json'));
  const bin = require.resolve(`@restatedev/restate-server-${process.platform}-${process.arch}/bin/restate-server`, { paths: [serverDir] });
  const server = spawn(
    bin,
    ['--base-dir', baseDir, '--bind-ip', '127.0.0.1', '--advertised-host', '127.0.0.1', '--bind-port', String(fabric), '--listen-mode', 'tcp', '--no-logo'],
    {
      env: {
        ...process.env,
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
        RESTATE_LOG_FILTER: 'error',
        RESTATE_DISABLE_TELEMETRY: 'true',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const adminUrl = `http://127.0.0.1:${admin}`;
  if (!(await waitForHttp(`${adminUrl}/health`, 60_000))) throw new Error('restate-server did not answer on its admin port within 60 s');
  const reg = await fetch(`${adminUrl}/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}`, force: true }),
  });
  if (!reg.ok) throw new Error(`registering the deployment failed: ${reg.status} ${await reg.text()}`);
  const ingressUrl = `http://127.0.0.1:${ingress}`;
  // The ingress needs a moment to learn the new deployment.
  for (let i = 0; ; i++) {
    const r = await fetch(`${ingressUrl}/restate/health`).catch(() => undefined);
    if (r?.ok || i > 50) break;
    await new Promise((res) => setTimeout(res, 200));
  }

  return {
    runOne: async (n) => {
      const orderId = orderIdFor(opts.prefix, n);
      const res = await fetch(`${ingressUrl}/bench/saga`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${orderId}` },
        body: JSON.stringify({ orderId, country: countryFor(n) }),
      });
      if (!res.ok) throw new Error(`restate ingress answered ${res.status}: ${await res.text()}`);
      const r = (await res.json()) as BenchResult;
      return { status: r.status };
    },
    watched: () => ({ 'restate-server': server.pid }),
    async stop() {
      await stopProcess(server, 10_000);
      await new Promise((r) => endpoint.close(r));
      await db.$disconnect();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
