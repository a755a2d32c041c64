import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request } from 'express';
import type { Services } from '../services';
import type { CheckoutClient, Unqueryable } from './checkout-client';
import type { ChoreographyClient } from './choreography-client';
import { hashRequest, isDeadlineExceeded, isTemporalUnavailable, orderIdForKey, UPDATE_TIMEOUT_MS } from './checkout-client';
import { TERMINAL_STATUSES, type CheckoutStatus } from '../workflows/checkout-types';
import { workflowIdFor } from '../workflows/workflow-id';
import { HttpError, errorHandler, notFound } from './http-error';
import type { PendingCancel, UpdateOutcome } from './checkout-client';
import { requireOperator } from './operator-auth';
import { OrderSecrets, PageTokens, requireOrderAccess } from './order-secrets';
import { OrderWatchers } from './order-watchers';
import { rateLimitPerIp } from './rate-limit';
import { requestLog, tagOrder } from './request-log';
import { securityHeaders, serveOrderEvents, WebApp } from './web';
import type { Logger } from '../lib/logger';
import type { ApiMetrics } from '../lib/metrics';
import { countsQuerySchema, idempotencyKeySchema, listQuerySchema, orderIdSchema, orderRequestSchema, resolveRequestSchema } from './order-request';
import { openApiDocument } from './openapi';
import type { OrderAccepted } from './responses';

export type ApiDeps = {
  checkouts: CheckoutClient;
  /** Choreographed orders (docs/choreography.md): placed, read, cancelled and resolved without Temporal. */
  choreographies: ChoreographyClient;
  services: Services;
  temporal: { namespace: string; uiUrl: string };
  /** Liveness of what the API depends on; throws when something is down. */
  ping: () => Promise<void>;
  /** The bearer token for operator endpoints (see operatorToken() in lib/config.ts). */
  operatorToken: string;
  /** The key each order's secret is derived from (see orderSecretKey() in lib/config.ts and api/order-secrets.ts). */
  orderSecretKey: string;
  /** The folder the web app was built into (web/dist); without one, its pages are a 404 that says so. */
  webRoot?: string;
  /** How often a watched order's saga is read for its event stream (GET /orders/:id/events). */
  watchIntervalMs?: number;
  /** Requests a client IP may make per minute (RATE_LIMIT_PER_MINUTE); over it, 429. */
  rateLimitPerMinute: number;
  /** Where request lines go; the process's logger by default. */
  logger?: Logger;
  /** Request and order metrics; served on their own port by the caller (api/server.ts). */
  metrics?: ApiMetrics;
};

/** Bodies are small: an order with 20 lines is well under this. */
export const BODY_LIMIT = '16kb';

/**
 * Seconds a client should wait before trying a 503 again: the default
 * workflow task timeout, after which a task held by a dead worker is handed
 * to another.
 */
export const RETRY_AFTER_SECONDS = 10;

/**
 * Seconds a client should wait before sending a cancel again that got no
 * answer in time, or before asking again when Temporal did not answer within
 * a request's timeout: Temporal holds the cancel meanwhile, and the next try
 * attaches to it (CANCEL_UPDATE_ID), so trying soon costs little.
 */
export const RETRY_SOON_SECONDS = 2;

/**
 * A watched order's saga is read this often, once for all its viewers: a
 * status change reaches the page within about this much plus a query's time,
 * and each watched order costs Temporal about 1000/WATCH_INTERVAL_MS queries a second.
 */
export const WATCH_INTERVAL_MS = 300;

/** A saga that has ended, but whose e-mail has not been stored yet, is watched this long at most (the notification comes after). */
const NOTIFICATION_GRACE_MS = 10_000;

export function createApp(deps: ApiDeps): express.Express {
  const { checkouts, choreographies, services, temporal, ping, operatorToken, rateLimitPerMinute, logger, metrics } = deps;
  const app = express();
  const operator = requireOperator(operatorToken);
  const secrets = new OrderSecrets(deps.orderSecretKey);
  const pageTokens = new PageTokens(deps.orderSecretKey);
  // The order's secret or the operator token; anything else is the 404 of an order that does not exist.
  const ownerOrOperator = requireOrderAccess(secrets, operatorToken, readOrderId);
  const web = new WebApp(deps.webRoot);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders());
  // First, so that requests the rate limit turns away are logged too.
  app.use(requestLog(logger));
  if (metrics) app.use(measureRequests(metrics));
  // Before everything else, so a flood is turned away before it costs a body parse or a Temporal call.
  app.use(rateLimitPerIp(rateLimitPerMinute));

  const uiLink = (workflowId: string, runId: string) =>
    `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;

  /** The order as GET /orders/:id answers it, and as its event stream pushes it; null when there is no such order. */
  const orderView = async (orderId: string) => {
    // Each service reports what its own store holds: the saga's view and the
    // services' views should agree, and this makes it easy to check.
    const servicesView = async () => {
      const [payment, entries, inventory, shipment, notifications] = await Promise.all([
        services.payments.paymentFor(orderId),
        services.payments.ledgerFor(orderId),
        services.inventory.reservationFor(orderId),
        services.shipping.shipmentFor(orderId),
        services.notifications.notificationsFor(orderId),
      ]);
      const ledger = entries.map(({ kind, amount, currency, createdAt }) => ({ kind, amount, currency, at: createdAt }));
      return { payment, ledger, inventory, shipment, notifications };
    };
    // The services' views are read after the saga's state, not beside it: a service acts before the saga
    // records that it did, so a saga read as COMPLETED comes with the stores that completed it.
    if ((await services.orders.coordinationOf(orderId)) === 'choreography') {
      const state = await choreographies.read(orderId);
      if (!state) return null;
      const saga = { queryable: true } as const;
      return {
        ...state,
        coordination: 'choreography' as const,
        saga,
        activities: [],
        // No worker build runs it: the services do.
        build: null,
        services: await servicesView(),
        links: { self: `/orders/${orderId}` },
      };
    }
    const state = await checkouts.read(orderId);
    if (!state) return null;
    // `saga.queryable` says whether the rest came from the saga itself (see SagaReading).
    const { runId, ...order } = state;
    return {
      ...order,
      coordination: 'orchestration' as const,
      services: await servicesView(),
      links: { self: `/orders/${orderId}`, temporalUi: uiLink(workflowIdFor(orderId), runId) },
    };
  };
  /** Who takes an order's cancel and resolve: the workflow's client, or the choreography's. */
  const sagaOf = async (orderId: string) => ((await services.orders.coordinationOf(orderId)) === 'choreography' ? choreographies : checkouts);
  const watchers = new OrderWatchers({
    read: orderView,
    isFinal: (order, watchedForMs) =>
      TERMINAL_STATUSES.includes(order.status as CheckoutStatus) && (order.services.notifications.length > 0 || watchedForMs > NOTIFICATION_GRACE_MS),
    intervalMs: deps.watchIntervalMs ?? WATCH_INTERVAL_MS,
  });

  // The pages: the storefront, the operations console, and (below) an order's page.
  app.use('/assets', web.assets());
  app.get('/', web.page('index.html'));
  app.get('/ops', web.page('ops.html'));

  app.get('/healthz', async (_req, res) => {
    try {
      await ping();
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable' });
    }
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  app.get('/catalog', async (_req, res) => {
    res.json(await services.inventory.catalog());
  });

  app.post('/orders', requireJson, express.json({ limit: BODY_LIMIT, strict: true }), async (req, res) => {
    const parsed = orderRequestSchema.safeParse(req.body);
    if (!parsed.success) throw HttpError.invalid(parsed.error);
    const order = parsed.data;
    const idempotencyKey = readIdempotencyKey(req);

    const unknown = await services.inventory.unknownSkus(order.items.map((i) => i.sku));
    if (unknown.length > 0) {
      throw new HttpError(422, `Unknown SKU: ${unknown.join(', ')}`, {
        issues: order.items.flatMap((item, i) => (unknown.includes(item.sku) ? [{ path: ['items', i, 'sku'], message: 'unknown SKU' }] : [])),
      });
    }

    // With a key, the order id is derived from it: a retried request maps to
    // the same order, and Temporal refuses to start its saga twice.
    const orderId = idempotencyKey ? orderIdForKey(idempotencyKey) : `ord_${randomUUID().replaceAll('-', '')}`;
    tagOrder(res, orderId);
    const secret = secrets.secretFor(orderId);
    const orderLinks = {
      self: `/orders/${orderId}`,
      // In the fragment, which the browser never sends: the page hands it to the API in a header.
      page: `/orders/${orderId}#secret=${secret}`,
      events: `/orders/${orderId}/events`,
    };
    if (order.coordination === 'choreography') {
      const placed = await choreographies.start(orderId, order, hashRequest(order));
      metrics?.ordersStarted.inc({ result: placed === 'conflict' ? 'conflict' : placed.replayed ? 'replayed' : 'started' });
      if (placed === 'conflict') throw new HttpError(422, 'Idempotency-Key was already used with a different request body');
      if (placed.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res
        .status(202)
        .location(`/orders/${orderId}`)
        .json({ orderId, coordination: 'choreography', status: 'PENDING', secret, links: orderLinks } satisfies OrderAccepted);
      return;
    }
    const started = await checkouts.start({ orderId, ...order }, hashRequest(order));
    metrics?.ordersStarted.inc({ result: started === 'conflict' ? 'conflict' : started.replayed ? 'replayed' : 'started' });
    if (started === 'conflict') {
      throw new HttpError(422, 'Idempotency-Key was already used with a different request body');
    }
    tagOrder(res, orderId, started.runId);
    if (started.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res
      .status(202)
      .location(`/orders/${orderId}`)
      .json({
        orderId,
        coordination: 'orchestration',
        workflowId: started.workflowId,
        runId: started.runId,
        status: 'PENDING',
        // Read, watch and cancel the order with `Authorization: Bearer <secret>`.
        secret,
        links: { ...orderLinks, temporalUi: uiLink(started.workflowId, started.runId) },
      } satisfies OrderAccepted);
  });

  // A browser that follows the order's link gets its page (web.orderPage), which
  // reads the order as JSON with the secret from the link's fragment.
  app.get('/orders/:orderId', web.orderPage(), ownerOrOperator, async (req, res) => {
    const order = await orderView(readOrderId(req));
    if (!order) throw new HttpError(404, 'Order not found');
    res.json(order);
  });

  // Server-Sent Events: the order as above, pushed on every change (api/web.ts).
  app.get('/orders/:orderId/events', ownerOrOperator, (req, res, next) => serveOrderEvents(watchers, readOrderId(req), req, res, next));

  app.get('/orders', operator, async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) throw HttpError.invalid(query.error, 'Invalid query');
    const { limit, pageToken: sealed, coordination, ...filter } = query.data;
    const pageToken = sealed === undefined ? undefined : pageTokens.open(sealed);
    if (pageToken === null) throw new HttpError(400, 'Invalid query', { issues: [{ path: ['pageToken'], message: 'not a page token this API issued' }] });
    const page = await (coordination === 'choreography' ? choreographies : checkouts).list(filter, { limit, pageToken });
    // The next page's address, as RFC 8288 says: the body stays the plain list it always was.
    if (page.nextPageToken) {
      const next = new URLSearchParams({
        ...(coordination && { coordination }),
        ...filter,
        ...(limit && { limit: String(limit) }),
        pageToken: pageTokens.seal(page.nextPageToken),
      });
      res.setHeader('Link', `</orders?${next}>; rel="next"`);
    }
    res.json(page.orders);
  });

  app.get('/order-counts', operator, async (req, res) => {
    const query = countsQuerySchema.safeParse(req.query);
    if (!query.success) throw HttpError.invalid(query.error, 'Invalid query');
    res.json(await (query.data.coordination === 'choreography' ? choreographies : checkouts).countByStatus());
  });

  app.post('/orders/:orderId/cancel', ownerOrOperator, async (req, res) => {
    const orderId = readOrderId(req);
    const state = updated(orderId, await (await sagaOf(orderId)).cancel(orderId));
    res.status(202).json(state);
  });

  // Authentication first: an unauthenticated caller learns nothing about the body we expect.
  app.post('/orders/:orderId/resolve', operator, requireJson, express.json({ limit: BODY_LIMIT, strict: true }), async (req, res) => {
    const orderId = readOrderId(req);
    const resolution = resolveRequestSchema.safeParse(req.body);
    if (!resolution.success) throw HttpError.invalid(resolution.error);
    res.json(updated(orderId, await (await sagaOf(orderId)).resolve(orderId, resolution.data)));
  });

  app.use(notFound);
  app.use(temporalOutage);
  app.use(errorHandler);
  return app;
}

/**
 * Temporal, or every worker, out of reach is an outage, not a bug in this request: 503 says to come back.
 * So is a Temporal that did not answer within the request's timeout (api/checkout-client.ts, TemporalTimeouts).
 */
const temporalOutage: ErrorRequestHandler = (err, _req, res, next) => {
  if (!isTemporalUnavailable(err)) return next(err);
  // Still logged at error level with its cause (api/request-log.ts).
  res.err = err;
  if (isDeadlineExceeded(err)) {
    return next(new HttpError(503, 'Temporal did not answer in time; try again shortly', { retryAfter: RETRY_SOON_SECONDS }));
  }
  next(new HttpError(503, 'Temporal is unavailable; try again later', { retryAfter: RETRY_AFTER_SECONDS }));
};

/** Labelled by route pattern, not URL: one series per endpoint, however many orders. */
function measureRequests(metrics: ApiMetrics) {
  return (req: Request, res: express.Response, next: () => void) => {
    const end = metrics.requestDuration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ?? 'unmatched';
      end({ method: req.method, route: typeof route === 'string' ? route : 'unmatched', status_code: String(res.statusCode) });
    });
    next();
  };
}

function requireJson(req: Request, _res: unknown, next: () => void): void {
  if (!req.is('application/json')) throw new HttpError(415, 'Content-Type must be application/json');
  next();
}

function readIdempotencyKey(req: Request): string | undefined {
  const raw = req.get('Idempotency-Key');
  if (raw === undefined) return undefined;
  const key = idempotencyKeySchema.safeParse(raw);
  if (!key.success) throw HttpError.invalid(key.error, 'Invalid Idempotency-Key header');
  return key.data;
}

function readOrderId(req: Request): string {
  const orderId = orderIdSchema.safeParse(req.params.orderId);
  if (!orderId.success) throw new HttpError(404, 'Order not found');
  tagOrder(req.res!, orderId.data);
  return orderId.data;
}

/** An update's outcome as HTTP: the new state, 404, 409 with the workflow's reason, or why the saga cannot take it now. */
function updated(orderId: string, outcome: UpdateOutcome) {
  if (outcome === 'not_found') throw new HttpError(404, 'Order not found');
  if (outcome === 'no_answer') {
    throw new HttpError(
      503,
      `The saga of order ${orderId} did not answer within ${UPDATE_TIMEOUT_MS / 1000} s; the request may still take effect, so read the order before sending it again`,
      { retryAfter: RETRY_AFTER_SECONDS },
    );
  }
  if ('pending' in outcome) throw cancelPending(orderId, outcome.pending);
  if ('saga' in outcome) throw cannotUpdate(orderId, outcome.saga);
  if ('rejected' in outcome) throw new HttpError(409, outcome.rejected);
  return outcome.state;
}

/**
 * A saga whose workflow task is in trouble takes no update. Stuck, it will not
 * get better by itself, so trying again is pointless (409); only being retried
 * (after a timeout or a first failure), it should answer again soon (503).
 */
function cannotUpdate(orderId: string, saga: Unqueryable): HttpError {
  if (saga.stuck) {
    return new HttpError(
      409,
      `The saga of order ${orderId} is stuck: its workflow task is on attempt ${saga.attempt} (first failure: ${saga.cause}). An operator must rescue it with \`npm run ops -- rescue\`.`,
      { fields: { saga } },
    );
  }
  return new HttpError(503, `The saga of order ${orderId} is recovering: its workflow task is being retried (after: ${saga.cause}); try again later`, {
    fields: { saga },
    retryAfter: RETRY_AFTER_SECONDS,
  });
}

/**
 * A cancel that got no answer within its timeout: the saga's workflow task
 * waits for a worker. Temporal holds the cancel, and the same cancel sent
 * again attaches to it (CANCEL_UPDATE_ID): trying again is how the customer
 * learns the outcome, and never cancels twice.
 */
function cancelPending(orderId: string, { cancel, withinMs }: PendingCancel): HttpError {
  const within = `${withinMs / 1000} s`;
  const message =
    cancel === 'accepted'
      ? `The saga of order ${orderId} has taken the cancel but did not answer within ${within}; send the cancel again for its outcome (the same cancel, not a second one)`
      : `The saga of order ${orderId} has not taken the cancel within ${within}: its workflow task waits for a worker. Temporal holds the cancel; send it again to learn its outcome (the same cancel, not a second one)`;
  return new HttpError(503, message, { fields: { cancel }, retryAfter: RETRY_SOON_SECONDS });
}
