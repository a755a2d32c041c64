// Must stay the first import: see api/start-tracing.ts.
import { tracing } from './start-tracing';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig, operatorToken, orderSecretKey } from '../lib/config';
import { dataConverter } from '../lib/data-converter';
import { createDb } from '../lib/db';
import { logger } from '../lib/logger';
import { createApiMetrics } from '../lib/metrics';
import { serveMetrics } from '../lib/metrics-server';
import { clientInterceptors } from '../lib/tracing';
import { createServices } from '../services';
import { DEFAULT_DEADLINES } from '../workflows/checkout-types';
import { createApp } from './app';
import { ChoreographyClient } from './choreography-client';
import { CheckoutClient } from './checkout-client';
import { WebApp } from './web';

/** Where scripts/build-web.ts puts the web app (npm start and the Docker image build it). */
const WEB_ROOT = path.resolve(__dirname, '..', 'web', 'dist');

async function main(): Promise<void> {
  const config = loadConfig();
  // Before connecting to anything: outside development a missing or public token stops the API here.
  const token = operatorToken(config);
  const secretKey = orderSecretKey(config);
  const db = createDb(config.databaseUrl, config.dbPoolSize);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config),
    interceptors: clientInterceptors(),
  });

  // Every deadline, defaults included, goes into each saga's input, so the values it ran with are in its history.
  const deadlines = { ...DEFAULT_DEADLINES, ...config.deadlines };
  const services = createServices(db, config);
  const checkouts = new CheckoutClient(client, config.temporal.taskQueue, deadlines, config.temporalTimeouts);
  const metrics = createApiMetrics({ ordersInFlight: () => checkouts.countInFlight() });
  const metricsServer = await serveMetrics(metrics.registry, config.metrics.apiPort, config.metrics.host);
  const app = createApp({
    checkouts,
    choreographies: new ChoreographyClient(services, deadlines),
    metrics,
    services,
    temporal: { namespace: config.temporal.namespace, uiUrl: config.temporal.uiUrl },
    operatorToken: token,
    orderSecretKey: secretKey,
    webRoot: WEB_ROOT,
    rateLimitPerMinute: config.rateLimitPerMinute,
    ping: async () => {
      await db.$queryRaw`SELECT 1`;
      await connection.healthService.check({});
    },
  });

  const server = app.listen(config.port, () => {
    logger.info({ url: `http://127.0.0.1:${config.port}`, metrics: metricsServer.url }, 'API listening');
    // The API works without its pages; say so rather than answer 404 to a browser unexplained.
    if (!new WebApp(WEB_ROOT).built) logger.warn({ webRoot: WEB_ROOT }, 'The web app is not built (npm run build:web): no pages are served');
  });
  // A deploy's SIGTERM: finish what is in flight, then go. server.close() alone refuses new connections but
  // keeps serving on open keep-alive ones, and a busy client never lets them go idle: under load an API told to
  // stop kept answering, and refusing everyone else, for minutes. So every answer from then on closes its
  // connection, and whatever is still open after the grace period is cut.
  let draining = false;
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close');
  });
  const shutdown = () => {
    draining = true;
    metricsServer.close();
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    server.closeIdleConnections();
    server.close(async () => {
      await connection.close();
      await db.$disconnect();
      await tracing?.shutdown();
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** How long a stopping API lets its requests in flight finish: longer than any route waits for Temporal. */
const SHUTDOWN_GRACE_MS = 10_000;

main().catch((err) => {
  // A configuration mistake is the operator's to fix: its message names the variable, and a stack adds nothing.
  if (err instanceof ConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, 'API failed');
  process.exit(1);
});
