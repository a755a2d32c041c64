import { sleep } from '../lib/backoff';

/** What a request was for; the report counts failures per kind. */
export type RequestKind = 'place' | 'cancel';

/** A request the client gave up on: the run records it and carries on. */
export type ClientFailure = {
  request: RequestKind;
  method: string;
  path: string;
  /** The last answer (status and the start of its body) or the last error. */
  last: string;
  attempts: number;
};

/**
 * One attempt as the client saw it: answered (with a status), abandoned at
 * the client's timeout, or no answer at all (refused, reset). The report's
 * client view per route, and the recovery after each fault, are read from these.
 */
export type SentRequest = {
  method: string;
  path: string;
  startMs: number;
  ms: number;
  outcome: 'answered' | 'timeout' | 'error';
  status?: number;
};

export type ChaosClientOptions = {
  /** Tries per request before giving up: the default outlasts an API restart. */
  attempts?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
};

/**
 * The chaos run's HTTP client. Like a real client, it retries through an API
 * that is restarting; unlike a script that may crash, it never throws: a
 * request that never gets through is recorded in `failures`, and the run
 * reports it instead of dying before the audit.
 */
export class ChaosClient {
  readonly failures: ClientFailure[] = [];
  /** Every attempt, in the order they were sent. */
  readonly sent: SentRequest[] = [];
  /** Attempts that met a 5xx or no answer, all requests together (the report's "client request retries"). */
  retries = 0;
  /**
   * Of those, the 503s that said when to come back (Retry-After), by request:
   * a cancel the saga has not taken in time (Temporal holds it, and the next
   * try attaches to it), a saga recovering, Temporal slow. Each was waited out.
   */
  readonly retryAfter: Record<RequestKind, number> = { place: 0, cancel: 0 };
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    // Longer than the API's own timeouts (a cancel's 1.5 s, an operator's resolve's 15 s), so that its answer comes back.
    { attempts = 120, retryDelayMs = 500, timeoutMs = 20_000 }: ChaosClientOptions = {},
  ) {
    this.attempts = attempts;
    this.retryDelayMs = retryDelayMs;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends until the API answers below 500, retrying 5xx and connection errors
   * with the same headers (so the same Idempotency-Key). Resolves to the
   * answer if `accept` takes its status, otherwise records a failure and
   * resolves to undefined. A 4xx is not retried: asking again gets the same.
   */
  async send(
    request: RequestKind,
    method: string,
    path: string,
    { body, headers = {}, accept = () => true }: { body?: object; headers?: Record<string, string>; accept?: (status: number) => boolean } = {},
  ): Promise<Response | undefined> {
    let last = '';
    let delayMs = 0;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      await sleep(delayMs);
      const answer = await this.once(method, path, { body, headers });
      if (typeof answer !== 'string' && answer.status < 500) {
        if (accept(answer.status)) return answer;
        this.failures.push({ request, method, path, last: await describeAnswer(answer), attempts: attempt });
        return undefined;
      }
      // A 503 says when to come back (a cancel not taken yet, a saga whose workflow task is being retried): a polite client waits that long.
      const retryAfter = typeof answer === 'string' ? undefined : retryAfterMs(answer);
      if (retryAfter !== undefined) this.retryAfter[request]++;
      delayMs = Math.max(retryAfter ?? 0, this.retryDelayMs);
      last = await describeAnswer(answer);
    }
    this.failures.push({ request, method, path, last, attempts: this.attempts });
    return undefined;
  }

  /** One attempt: the API's answer, whatever its status, or what kept it from answering. */
  async once(method: string, path: string, { body, headers = {} }: { body?: object; headers?: Record<string, string> } = {}): Promise<Response | string> {
    const startMs = Date.now();
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      this.sent.push({ method, path, startMs, ms: Date.now() - startMs, outcome: 'answered', status: res.status });
      if (res.status >= 500) this.retries++;
      return res;
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      this.sent.push({ method, path, startMs, ms: Date.now() - startMs, outcome: timedOut ? 'timeout' : 'error' });
      this.retries++;
      // fetch hides the useful part (ECONNREFUSED, ECONNRESET) in its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? String(err);
    }
  }
}

/** An answer as one line for the report: its status and the start of its body, or the error. */
export async function describeAnswer(answer: Response | string): Promise<string> {
  if (typeof answer === 'string') return answer;
  // Reading the body also releases the connection it holds.
  const text = await answer.text().catch((err) => `(body unreadable: ${err})`);
  return `${answer.status} ${text.slice(0, 200)}`.trim();
}

function retryAfterMs(res: Response): number | undefined {
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
