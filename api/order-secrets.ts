import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';
import { bearerToken } from './operator-auth';

/**
 * Each order's secret, like a payment provider's client secret: the answer to
 * POST /orders carries it, and reading the order, watching it and cancelling
 * it require it (or the operator token).
 *
 * Derived, not stored: an HMAC-SHA256 of the order id under ORDER_SECRET_KEY.
 * Nothing is written when an order starts, a retried POST with the same
 * Idempotency-Key gets the same secret, and every API replica can check it.
 * Rotating the key invalidates every link handed out so far.
 */
export class OrderSecrets {
  constructor(private readonly key: string) {}

  /** 43 base64url characters: usable as a Bearer token and in a URL fragment as they are. */
  secretFor(orderId: string): string {
    return createHmac('sha256', this.key).update(orderId).digest('base64url');
  }

  /** True when `presented` is the order's secret; in constant time, whatever its length. */
  matches(orderId: string, presented: string): boolean {
    return timingSafeEqual(digest(presented), digest(this.secretFor(orderId)));
  }
}

/**
 * The page tokens of GET /orders: Temporal's, with an HMAC under the same key
 * appended, so that only a token this API issued reaches Temporal (which
 * answers a forged one with an internal error, not a refusal).
 */
export class PageTokens {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    // A key of its own, derived from the order secrets' key: a page token's MAC is never an order's secret.
    this.key = createHmac('sha256', secretKey).update('page-tokens').digest();
  }

  seal(raw: Uint8Array): string {
    const token = Buffer.from(raw).toString('base64url');
    return `${token}.${this.mac(token)}`;
  }

  /** Temporal's token, or null when this API did not issue it. */
  open(sealed: string): Buffer | null {
    const [token, mac] = sealed.split('.');
    if (token === undefined || mac === undefined || !timingSafeEqual(digest(mac), digest(this.mac(token)))) return null;
    return Buffer.from(token, 'base64url');
  }

  private mac(token: string): string {
    return createHmac('sha256', this.key).update(token).digest('base64url');
  }
}

/**
 * Guards a customer's order route (`:orderId`): `Authorization: Bearer` with
 * the order's secret or the operator token. Anything else is the 404 of an
 * order that does not exist, so nobody learns which order ids are taken.
 * Checked before the order is looked up: a guess costs no Temporal call.
 */
export function requireOrderAccess(secrets: OrderSecrets, operatorToken: string, orderIdOf: (req: Parameters<RequestHandler>[0]) => string): RequestHandler {
  const operator = digest(operatorToken);
  return (req, _res, next) => {
    const orderId = orderIdOf(req);
    const token = bearerToken(req.get('Authorization'));
    const allowed = token !== null && (secrets.matches(orderId, token) || timingSafeEqual(digest(token), operator));
    if (!allowed) throw new HttpError(404, 'Order not found');
    next();
  };
}

/** Digests have one length whatever was sent, so timingSafeEqual never throws and the time taken says nothing. */
const digest = (text: string) => createHash('sha256').update(text).digest();
