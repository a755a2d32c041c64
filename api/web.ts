import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { HttpError } from './http-error';
import type { OrderWatchers } from './order-watchers';

/**
 * The web app, built by scripts/build-web.ts into a folder of static files:
 * the pages (index.html, ops.html, order.html) and assets/ (the script and the
 * style sheet). Pages are revalidated on every load, so a new build shows at once.
 */
export class WebApp {
  /** `root` unset (an API without pages, as in most tests): every page is the 404 of an unbuilt app. */
  constructor(private readonly root?: string) {}

  /** False when the web app has not been built (npm start and the Docker image build it). */
  get built(): boolean {
    return this.root !== undefined && existsSync(path.join(this.root, 'index.html'));
  }

  assets(): RequestHandler {
    if (this.root === undefined) return (_req, _res, next) => next();
    return express.static(path.join(this.root, 'assets'), { index: false, fallthrough: true, cacheControl: true, maxAge: 0 });
  }

  page(file: 'index.html' | 'ops.html' | 'order.html'): RequestHandler {
    return (_req, res, next) => {
      if (!this.built) return next(new HttpError(404, 'The web app is not built: run `npm run build:web` (npm start does)'));
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(this.root!, file), (err) => err && next(err));
    };
  }

  /**
   * For GET /orders/:orderId: a browser (which asks for HTML first) gets the
   * order's page, which holds no data; any other client goes on to the JSON.
   */
  orderPage(): RequestHandler {
    const page = this.page('order.html');
    return (req, res, next) => {
      res.vary('Accept');
      if (this.built && req.accepts(['application/json', 'text/html']) === 'text/html') return page(req, res, next);
      next();
    };
  }
}

/**
 * Helmet's headers, with a Content-Security-Policy that allows our own origin
 * only: no inline script or style, no other origin for anything, no fonts, no
 * framing. It goes on every answer, JSON included: it costs nothing there, and
 * no page can be served without it by mistake.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // HSTS belongs to whatever terminates TLS in front of the API; over plain HTTP browsers ignore it anyway.
    strictTransportSecurity: false,
  });
}

/** The browser waits this long before it reconnects a dropped stream (an API restart). */
export const RECONNECT_MS = 1000;
/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * An order's Server-Sent Events: `order` with the order (as GET /orders/:id
 * answers it) first and on every change, `unavailable` while it cannot be
 * read, `end` once it can no longer change. Each `order` event's id names its
 * content, so a browser that reconnects with Last-Event-ID (after an API
 * restart, to any replica) gets the order again only if it changed meanwhile.
 *
 * Written by hand: the format is a few lines of text (`id:`, `event:`,
 * `data:`, `retry:`), and what matters here, sharing one poller between all
 * viewers, is ours to write either way (api/order-watchers.ts).
 */
export function serveOrderEvents<V>(watchers: OrderWatchers<V>, orderId: string, req: Request, res: Response, next: NextFunction): void {
  const lastEventId = req.get('Last-Event-ID');
  let open = false;
  let done = false;
  let keepAlive: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const finish = () => {
    done = true;
    clearInterval(keepAlive);
    unsubscribe();
  };
  const send = (event: string, data: unknown, id?: string) => res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  unsubscribe = watchers.subscribe(orderId, (event) => {
    if (done) return;
    if (!open) {
      // Nothing sent yet: an order that does not exist, or a first read that failed, is an ordinary error answer.
      if (event.type === 'gone') return (finish(), next(new HttpError(404, 'Order not found')));
      if (event.type === 'unavailable') return (finish(), next(event.error));
      open = true;
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      res.write(`retry: ${RECONNECT_MS}\n\n`);
      keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    }
    switch (event.type) {
      case 'view':
        if (event.id !== lastEventId) send('order', event.view, event.id);
        return;
      case 'unavailable':
        return void send('unavailable', { error: 'The order cannot be read right now; updates resume when it can' });
      case 'end':
      case 'gone':
        if (event.type === 'end') send('end', {});
        finish();
        res.end();
    }
  });
  if (done) unsubscribe();
  res.on('close', finish);
}
