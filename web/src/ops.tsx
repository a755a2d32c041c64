import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, api, bearer, operatorSession } from './api';
import { behavior, label, time } from './format';
import { Field, Layout } from './layout';
import { CHECKOUT_STATUSES, type Order, type OrderSummary } from './types';

/** Counts and the queue are read again this often while the console is open. */
const REFRESH_MS = 5000;
const PAGE_SIZE = 20;

/**
 * The operations console, behind the operator token. The token is asked for
 * once per browser session and kept in sessionStorage: it goes to the API in
 * the Authorization header, never in a URL.
 */
export function OperationsConsole() {
  const [token, setToken] = useState(operatorSession.get());
  if (!token) return <SignIn onSignedIn={setToken} />;
  const signOut = () => {
    operatorSession.clear();
    setToken(null);
  };
  return (
    <Layout title="Operations" wide>
      <p>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </p>
      <Console token={token} onRefused={signOut} />
    </Layout>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      // Any operator route checks it; the counts are the cheapest.
      await api('/order-counts', { headers: bearer(value.trim()) });
      operatorSession.set(value.trim());
      onSignedIn(value.trim());
    } catch (err) {
      setError(err instanceof ApiFailure && (err.status === 401 || err.status === 403) ? 'That is not the operator token.' : String((err as Error).message));
    }
  };
  return (
    <Layout title="Operations">
      <form onSubmit={submit} class="signin" noValidate>
        <p>The console needs the operator token (OPERATOR_TOKEN; `npm start` prints the development one). It is kept for this browser session only.</p>
        <Field id="token" label="Operator token" type="password" value={value} onInput={setValue} errors={error ? [error] : []} autocomplete="current-password" />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Layout>
  );
}

function Console({ token, onRefused }: { token: string; onRefused: () => void }) {
  const [counts, setCounts] = useState<Record<string, number> | null>(null);
  const [queue, setQueue] = useState<Order[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // Said here, not in the case: once decided, the case leaves the queue.
  const [decided, setDecided] = useState<string | null>(null);
  const decidedOn = (message: string) => {
    setDecided(message);
    setTick((t) => t + 1);
  };

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        // Orchestrated orders are counted and listed by Temporal, choreographed ones by the order service: both, side by side.
        const both = (query: string) => [query, `${query}${query.includes('?') ? '&' : '?'}coordination=choreography`];
        const [counted, listed] = await Promise.all([
          Promise.all(both('/order-counts').map((path) => api<Record<string, number>>(path, { headers: bearer(token) }))),
          Promise.all(both(`/orders?status=FAILED_NEEDS_MANUAL&limit=${PAGE_SIZE}`).map((path) => api<OrderSummary[]>(path, { headers: bearer(token) }))),
        ]);
        const c: Record<string, number> = {};
        for (const { data } of counted) for (const [status, n] of Object.entries(data)) c[status] = (c[status] ?? 0) + n;
        const waiting = listed.flatMap(({ data }) => data);
        // Each waiting order's failed compensations and reasons come from the saga itself.
        const orders = await Promise.all(waiting.map(async (o) => (await api<Order>(`/orders/${o.orderId}`, { headers: bearer(token) })).data));
        if (stopped) return;
        setCounts(c);
        setQueue(orders.filter((o) => o.status === 'FAILED_NEEDS_MANUAL'));
        setError(null);
      } catch (err) {
        if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) return onRefused();
        if (!stopped) setError((err as Error).message);
      }
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [token, tick]);

  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">Orders by outcome</h2>
        {!counts ? (
          <p>Loading…</p>
        ) : (
          <dl class="counts">
            {CHECKOUT_STATUSES.map((status) => (
              <div key={status} class={`count status-${status}`}>
                <dt>{status}</dt>
                <dd data-count={status}>{counts[status] ?? 0}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>

      <section aria-labelledby="queue-heading">
        <h2 id="queue-heading">Waiting for an operator (FAILED_NEEDS_MANUAL)</h2>
        <p role="status" class="ok">
          {decided}
        </p>
        {!queue ? <p>Loading…</p> : queue.length === 0 ? <p>Nobody is waiting.</p> : queue.map((order) => <Case key={order.orderId} order={order} token={token} onDone={decidedOn} />)}
      </section>

      <OrderList token={token} />
    </>
  );
}

/** One saga waiting in FAILED_NEEDS_MANUAL: what was refused and why, and the two decisions, each with a note. */
function Case({ order, token, onDone }: { order: Order; token: string; onDone: (message: string) => void }) {
  const [note, setNote] = useState('');
  const [issues, setIssues] = useState<string[]>([]);
  const [result, setResult] = useState<{ error?: string; status?: string } | null>(null);
  const [sending, setSending] = useState(false);
  const id = order.orderId;
  const decide = async (action: 'retry' | 'mark-resolved') => {
    setSending(true);
    setIssues([]);
    setResult(null);
    try {
      const { data } = await api<{ status: string }>(`/orders/${id}/resolve`, { method: 'POST', headers: bearer(token), body: { action, note } });
      setResult({ status: data.status });
      setNote('');
      onDone(`Order ${id} is now ${data.status}.`);
    } catch (err) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(0, { error: String(err) });
      const noteIssues = (failure.body.issues ?? []).filter((i) => i.path[0] === 'note').map((i) => i.message);
      setIssues(noteIssues);
      if (noteIssues.length === 0) setResult({ error: failure.body.error });
    } finally {
      setSending(false);
    }
  };
  return (
    <article class="case card" aria-labelledby={`case-${id}`} data-order={id}>
      <h3 id={`case-${id}`}>
        <a href={`/orders/${id}`}>{id}</a>
      </h3>
      {order.failure && (
        <p>
          The saga stopped at {label(order.failure.step)} (<code>{order.failure.reason}</code>): {order.failure.message}
        </p>
      )}
      <p>Refused compensations:</p>
      <ul>
        {(order.failedCompensations ?? []).map((f) => (
          <li key={f.step}>
            {label(f.step)}: <code>{f.reason}</code>, {f.message}
          </li>
        ))}
      </ul>
      <Field id={`note-${id}`} label="Note (required: what was done, or why)" value={note} onInput={setNote} errors={issues} />
      <div class="actions">
        <button type="button" disabled={sending} onClick={() => decide('retry')}>
          Retry the compensations
        </button>
        <button type="button" disabled={sending} onClick={() => decide('mark-resolved')}>
          Mark resolved
        </button>
      </div>
      {result?.error && (
        <p class="error" role="alert">
          {result.error}
        </p>
      )}
      {result?.status && <p role="status">Done: the order is now {result.status}.</p>}
    </article>
  );
}

/** Orders by status, a page at a time, following the API's Link headers. */
function OrderList({ token }: { token: string }) {
  const [status, setStatus] = useState('');
  const [coordination, setCoordination] = useState('orchestration');
  const [pages, setPages] = useState<string[]>([]);
  const [rows, setRows] = useState<OrderSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const first = `/orders?${new URLSearchParams({ coordination, ...(status && { status }), limit: String(PAGE_SIZE) })}`;
  const current = pages.at(-1) ?? first;

  useEffect(() => {
    let stopped = false;
    api<OrderSummary[]>(current, { headers: bearer(token) })
      .then(({ data, headers }) => {
        if (stopped) return;
        setRows(data);
        setNext(/^<([^>]+)>;\s*rel="next"$/.exec(headers.get('link') ?? '')?.[1] ?? null);
        setError(null);
      })
      .catch((err) => !stopped && setError((err as Error).message));
    return () => {
      stopped = true;
    };
  }, [current, token]);

  return (
    <section aria-labelledby="list-heading">
      <h2 id="list-heading">Orders</h2>
      <div class="field inline">
        <label for="coordination-filter">Coordination</label>
        <select
          id="coordination-filter"
          value={coordination}
          onChange={(e) => {
            setCoordination((e.target as HTMLSelectElement).value);
            setPages([]);
          }}
        >
          <option value="orchestration">Orchestrated (from Temporal)</option>
          <option value="choreography">Choreographed (from the order service; PENDING while the saga runs)</option>
        </select>
      </div>
      <div class="field inline">
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            setStatus((e.target as HTMLSelectElement).value);
            setPages([]);
          }}
        >
          <option value="">Any</option>
          {CHECKOUT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {rows && rows.length === 0 && <p>No orders.</p>}
      {rows && rows.length > 0 && (
        <table class="orders">
          <caption>
            Page {pages.length + 1}
            {status ? `, ${status}` : ''}, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Customer</th>
              <th scope="col">Started</th>
              <th scope="col">Closed</th>
              <th scope="col">Build</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.orderId}>
                <td>
                  <a href={`/orders/${o.orderId}`}>{o.orderId}</a>
                </td>
                <td>{o.status}</td>
                <td>{o.customerId ?? '–'}</td>
                <td>{time(o.startedAt)}</td>
                <td>{time(o.closedAt)}</td>
                <td data-build={o.build?.buildId ?? ''}>
                  {o.build ? (
                    <>
                      <code>{o.build.buildId}</code> <span class="muted">{`${o.build.deploymentName}, ${behavior(o.build.behavior)}`}</span>
                    </>
                  ) : coordination === 'choreography' ? (
                    '–'
                  ) : (
                    <span class="muted">unversioned</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        <button type="button" disabled={pages.length === 0} onClick={() => setPages((p) => p.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!next} onClick={() => next && setPages((p) => [...p, next])}>
          Next page
        </button>
      </div>
    </section>
  );
}
