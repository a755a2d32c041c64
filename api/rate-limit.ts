import { rateLimit } from 'express-rate-limit';

/**
 * Requests per client IP and minute. The counters live in this process's
 * memory: with several API replicas each allows the limit, which is enough to
 * stop one client from starving the others; a shared limit would need a store
 * such as rate-limit-redis.
 */
export function rateLimitPerIp(perMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // IETF draft 8: `RateLimit-Policy` and `RateLimit` headers, plus Retry-After on 429.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // An orchestrator probing from a shared address must not see the API as down
    // because a client behind that address is being throttled.
    skip: (req) => req.path === '/healthz',
    handler: (_req, res, _next, options) => {
      res.status(options.statusCode).json({ error: `Too many requests: at most ${perMinute} a minute; retry after the Retry-After header's seconds` });
    },
  });
}
