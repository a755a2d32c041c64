// Like a real provider's sandbox, the outcome is chosen by the card token.
export const TEST_TOKENS = {
  /** Always succeeds. */
  VISA: 'tok_visa',
  /** Always declined: a business failure, never retried. */
  DECLINED: 'tok_declined',
  /** The authorization times out on its first two calls per idempotency key, then succeeds. */
  FLAKY: 'tok_flaky',
  /** Authorizes and captures, but the provider refuses every void and refund: money that can't be given back by itself. */
  REFUND_FAILS: 'tok_refund_fails',
  /** The first authorization call per key commits, then its response is lost: the caller sees a timeout for a done deed. */
  LOST_RESPONSE: 'tok_lost_response',
  /**
   * The provider is down for this card: every authorization call times out,
   * however often it is retried. Nobody planned for an outage that outlasts the
   * retries, so the saga ends FAILED rather than COMPENSATED.
   */
  PROVIDER_DOWN: 'tok_provider_down',
} as const;

export const FLAKY_FAILURES = 2;

const APPROVED: ReadonlySet<string> = new Set([TEST_TOKENS.VISA, TEST_TOKENS.FLAKY, TEST_TOKENS.REFUND_FAILS, TEST_TOKENS.LOST_RESPONSE]);

/** The provider's verdict on a token: a decline code, or null to approve. */
export function declineCodeFor(token: string): string | null {
  if (APPROVED.has(token)) return null;
  if (token === TEST_TOKENS.DECLINED) return 'card_declined';
  return 'invalid_token';
}

/** Whether the provider refuses to void or refund payments made with this token. */
export function rejectsReversal(token: string | null): boolean {
  return token === TEST_TOKENS.REFUND_FAILS;
}
