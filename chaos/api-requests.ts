// The API's own view of the chaos run: one JSON line per request, written by
// pino-http (api/request-log.ts) when the response finished, into api.log.
// The API restarts during the run, so the file holds several processes'
// lines, and the supervisor's own "[chaos] api exited" lines between them.

/** The routes the report tells apart; every other request is `other`. */
export const ROUTES = ['POST /orders', 'GET /orders/:id', 'POST /orders/:id/cancel', 'POST /orders/:id/resolve', 'other'] as const;
export type Route = (typeof ROUTES)[number];

/** One answered request, as the API logged it. Times in ms since the epoch. */
export type ApiRequest = {
  route: Route;
  /** When it came in: the line's time less its responseTime. */
  startMs: number;
  /** When the response finished (or the client went away): the line's time. */
  endMs: number;
  ms: number;
  /** null: the client went away before the answer ("request aborted", as the chaos client does at its timeout). */
  status: number | null;
};

/** A request's route, with the order id and the query string taken out. */
export function routeOf(method: string, url: string): Route {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  const parts = path.split('/').slice(1);
  const verb = method.toUpperCase();
  if (parts[0] !== 'orders') return 'other';
  if (parts.length === 1) return verb === 'POST' ? 'POST /orders' : 'other';
  if (parts.length === 2) return verb === 'GET' ? 'GET /orders/:id' : 'other';
  if (parts.length === 3 && verb === 'POST' && parts[2] === 'cancel') return 'POST /orders/:id/cancel';
  if (parts.length === 3 && verb === 'POST' && parts[2] === 'resolve') return 'POST /orders/:id/resolve';
  return 'other';
}

type RequestLine = { time?: unknown; responseTime?: unknown; req?: { method?: unknown; url?: unknown }; res?: { statusCode?: unknown }; msg?: unknown };

/**
 * The request lines of an api.log. Other lines (the API's start-up, the
 * supervisor's notes) are passed over; a line that starts like JSON and does
 * not parse (cut short by a kill, say) is counted in `unreadableLines`.
 */
export function parseRequestLog(text: string): { requests: ApiRequest[]; unreadableLines: number } {
  const requests: ApiRequest[] = [];
  let unreadableLines = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: RequestLine;
    try {
      entry = JSON.parse(line) as RequestLine;
    } catch {
      unreadableLines++;
      continue;
    }
    const { time, responseTime, req, res } = entry;
    if (typeof responseTime !== 'number' || typeof req?.method !== 'string' || typeof req.url !== 'string' || !res) continue;
    // A request the client gave up on is logged when it goes away, with no status yet.
    const status = typeof res.statusCode === 'number' && entry.msg !== 'request aborted' ? res.statusCode : null;
    const endMs = typeof time === 'number' ? time : Date.parse(String(time));
    if (!Number.isFinite(endMs)) continue;
    requests.push({ route: routeOf(req.method, req.url), startMs: endMs - responseTime, endMs, ms: responseTime, status });
  }
  return { requests, unreadableLines };
}
