// Starts the Temporal dev server (from the Temporal CLI) with its Web UI, for
// `npm start` and for tests; headless (no UI) for the benchmark.
//
// We go through @temporalio/testing's createLocal rather than spawning the CLI
// ourselves: it picks a free port when asked, waits until the frontend
// answers, connects a client and a worker connection, and kills the server on
// teardown. We only supply the binary (see temporal-cli.ts), since its own
// download needs internet access.
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CUSTOMER_ID, ORDER_STATUS } from '../workflows/search-attributes';
import { resolveTemporalCli, type Log } from './temporal-cli';
import { devServerArgs, serverDynamicConfig, type ServerLever } from './temporal-settings';

/** Custom search attributes the dev server registers at start; the workflow writes them. */
export const SEARCH_ATTRIBUTES: SearchAttributeKey<SearchAttributeType>[] = [ORDER_STATUS, CUSTOMER_ID];

const DEV_SERVER_IP = '127.0.0.1';

const DEV_SERVER_NAMESPACE = 'default';

export type DevServerOptions = {
  /** Frontend (gRPC) port; a free one if omitted or 0. */
  port?: number;
  /** Web UI port; a free one if omitted or 0. */
  uiPort?: number;
  /** No Web UI at all (--headless); uiPort and uiCodecEndpoint are then ignored. */
  headless?: boolean;
  /** SQLite file to persist to; in memory (nothing kept) if omitted. */
  dbFilename?: string;
  /** The server's own log level (it logs to our stdout); the SDK's default is warn. */
  serverLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** A codec server the Web UI sends payloads to for decoding (--ui-codec-endpoint). */
  uiCodecEndpoint?: string;
  /** Server settings to leave at the server's default (scripts/temporal-settings.ts), for the bench's A/B. */
  withoutLevers?: ServerLever[];
  /** More CLI arguments for `temporal server start-dev`, after ours. */
  extraArgs?: string[];
  log?: Log;
};

export type DevServer = {
  env: TestWorkflowEnvironment;
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  /** Undefined when headless. */
  uiUrl?: string;
  teardown(): Promise<void>;
};

const defaultLog: Log = (m) => process.stderr.write(`[dev-server] ${m}\n`);

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = opts.log ?? defaultLog;
  const executable = await resolveTemporalCli(log);
  // The CLI would put the UI on port + 1000, which may be taken when the port
  // itself was picked at random; choosing a free one ourselves avoids that.
  const uiPort = opts.headless ? undefined : opts.uiPort || (await freePort());
  if (opts.dbFilename) mkdirSync(path.dirname(opts.dbFilename), { recursive: true });

  const started = Date.now();
  const env = await withStartupRetries(log, () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip: DEV_SERVER_IP,
        // 0 means "any" to us; the SDK wants undefined for that.
        port: opts.port || undefined,
        ui: !opts.headless,
        uiPort,
        dbFilename: opts.dbFilename,
        namespace: DEV_SERVER_NAMESPACE,
        searchAttributes: SEARCH_ATTRIBUTES,
        ...(opts.serverLogLevel && { log: { format: 'pretty', level: opts.serverLogLevel } }),
        extraArgs: [
          ...(opts.headless ? ['--headless'] : []),
          ...devServerArgs(serverDynamicConfig(opts.withoutLevers)),
          ...(opts.uiCodecEndpoint && !opts.headless ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
          ...(opts.extraArgs ?? []),
        ],
      },
    }),
  );
  const uiUrl = uiPort === undefined ? undefined : `http://${DEV_SERVER_IP}:${uiPort}`;
  // The UI is a separate HTTP server inside the CLI; createLocal only waits for
  // the frontend, so wait for the UI too before telling anyone its URL.
  if (uiUrl && !(await waitForHttp(uiUrl, 10_000))) log(`warning: the Temporal UI did not answer on ${uiUrl} yet`);
  log(`Temporal dev server on ${env.address}${uiUrl ? `, UI on ${uiUrl}` : ''} (ready in ${Date.now() - started} ms)`);

  let tornDown = false;
  return {
    env,
    address: env.address,
    uiUrl,
    async teardown() {
      if (tornDown) return;
      tornDown = true;
      await env.teardown();
    },
  };
}

/** A port that was free a moment ago, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, DEV_SERVER_IP, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until the URL gives any HTTP response; false after timeoutMs. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return false;
}

/**
 * The SDK gives the server a fixed 5 s to answer, then kills it. A server
 * reopening a large SQLite file on a busy machine can need longer, and a
 * second try finds the file warm in the page cache.
 */
async function withStartupRetries<T>(log: Log, start: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= tries || !/did not start within/.test(String(err))) throw err;
      log(`the dev server did not answer within the SDK's 5 s (attempt ${attempt} of ${tries}); starting it again`);
    }
  }
}
