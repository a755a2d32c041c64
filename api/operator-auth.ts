import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

// RFC 6750 §2.1: "Bearer" (any case), one space, then a b64token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Guards the operator endpoints (listing orders, resolving a stuck saga) with
 * a shared bearer token. 401 when no usable credentials were sent, so a client
 * knows to send them; 403 when they were sent and are wrong.
 */
export function requireOperator(
  expectedToken: string,
  { realm = 'operator', hint = 'Operator endpoints require Authorization: Bearer <OPERATOR_TOKEN>' } = {},
): RequestHandler {
  const expected = digest(expectedToken);
  return (req, res, next) => {
    const header = req.get('Authorization');
    const token = bearerToken(header);
    if (token === null) {
      res.setHeader('WWW-Authenticate', header === undefined ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_request"`);
      throw new HttpError(401, hint);
    }
    // Digests have one length whatever was sent, so timingSafeEqual never
    // throws on a length mismatch and the time taken says nothing about the token.
    if (!timingSafeEqual(digest(token), expected)) throw new HttpError(403, `Invalid ${realm} token`);
    next();
  };
}

/** The token of an `Authorization: Bearer` header, or null when there is no usable one. */
export function bearerToken(header: string | undefined): string | null {
  return (header === undefined ? null : BEARER.exec(header)?.[1]) ?? null;
}

const digest = (token: string) => createHash('sha256').update(token).digest();
