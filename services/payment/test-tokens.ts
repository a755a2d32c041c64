// Like a real provider's sandbox, the outcome is chosen by the card token.
export const TEST_TOKENS = {
  /** Always succeeds. */
  VISA: 'tok_visa',
  /** Always declined: a business failure, never retried. */
  DECLINED: 'tok_declined',
  /** Times out on its first two attempts per idempotency key, then succeeds. */
  FLAKY: 'tok_flaky',
} as const;

export const FLAKY_FAILURES = 2;
