import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';

const issueSchema = z.object({ path: z.array(z.union([z.string(), z.int()])), message: z.string() });
export type Issue = z.output<typeof issueSchema>;

/** Every error's JSON body: what errorHandler sends. `fields` may add more (api/responses.ts documents the API's). */
export const errorBodySchema = z.object({
  error: z.string(),
  issues: z.array(issueSchema).optional().meta({ description: 'The offending fields of an invalid request' }),
});
type ErrorBody = z.output<typeof errorBodySchema>;

/** What the client gets besides the status and `error`. */
export type HttpErrorDetails = {
  /** The offending fields of an invalid request. */
  issues?: Issue[];
  /** More fields for the JSON body, next to `error`: what the client needs to decide what to do. */
  fields?: Record<string, unknown>;
  /** Seconds, sent as Retry-After: the answer may change by then. */
  retryAfter?: number;
};

/** An error the client can act on: its status, message and details are sent as they are. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: HttpErrorDetails = {},
  ) {
    super(message);
  }

  static invalid(error: z.ZodError, message = 'Invalid request body'): HttpError {
    return new HttpError(400, message, {
      issues: error.issues.map((i) => ({ path: i.path.filter((p) => typeof p !== 'symbol') as (string | number)[], message: i.message })),
    });
  }
}

// body-parser reports its failures with a `type`; map them to what the client did wrong.
const BODY_PARSER_ERRORS: Record<string, [number, string]> = {
  'entity.parse.failed': [400, 'Malformed JSON body'],
  'entity.too.large': [413, 'Request body too large'],
  'encoding.unsupported': [415, 'Unsupported content encoding'],
  'charset.unsupported': [415, 'Unsupported charset'],
  'request.aborted': [400, 'Request aborted'],
  'entity.verify.failed': [400, 'Invalid request body'],
};

export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `No route for ${req.method} ${req.path}`);
};

/** The last middleware: every error becomes JSON, and no stack trace ever leaves. */
export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof HttpError) {
    const { issues, fields, retryAfter } = err.details;
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.status(err.status).json({ error: err.message, ...(issues && { issues }), ...fields } satisfies ErrorBody);
    return;
  }
  const known = typeof err?.type === 'string' ? BODY_PARSER_ERRORS[err.type] : undefined;
  if (known) {
    res.status(known[0]).json({ error: known[1] } satisfies ErrorBody);
    return;
  }
  // Other http-errors from Express and body-parser (a compressed body that does
  // not inflate, a path that does not percent-decode) blame the client with a
  // 4xx but carry no `type`; their messages come from zlib and the router, so
  // only the status's own phrase is sent.
  const status = err?.status ?? err?.statusCode;
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    res.status(status).json({ error: STATUS_CODES[status] ?? 'Bad request' } satisfies ErrorBody);
    return;
  }
  // The request's log line (api/request-log.ts) carries it, at error level, with its stack.
  res.err = err;
  res.status(500).json({ error: 'Internal server error' } satisfies ErrorBody);
};
