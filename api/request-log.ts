import type { Response } from 'express';
import { pinoHttp } from 'pino-http';
import { logger as processLogger, type Logger } from '../lib/logger';
import { workflowIdFor } from '../workflows/workflow-id';

/**
 * One JSON line per request, written when the response is finished, so it
 * carries the status, the duration and the order the request was about.
 */
export function requestLog(logger: Logger = processLogger) {
  return pinoHttp({
    logger: logger.child({ component: 'api' }),
    // Read again when the response finishes: routes fill these in once they know the order.
    customProps: (_req, res) => ({ ...(res as Response).locals?.order }),
    // A 4xx is the client's mistake, an answer we meant to give: only our own failures are errors.
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    // Only what helps to find a request again; headers would carry the operator's bearer token.
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Names the order (and its saga) on this request's log line. */
export function tagOrder(res: Response, orderId: string, runId?: string): void {
  res.locals.order = { orderId, workflowId: workflowIdFor(orderId), ...(runId && { runId }) };
}
