import { EventSource } from 'eventsource';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, api, bearer, operatorSession } from './api';
import { behavior, countdown, label, money, preciseTime, time } from './format';
import { Layout } from './layout';
import { UNDO_OF, type InFlightActivity, type Order, type StepState, type TimelineEntry, type TimerState, type UndoState } from './types';

const FINAL = ['COMPLETED', 'COMPENSATED', 'FAILED', 'RESOLVED_MANUALLY'];
/** After the stream was refused (the API answered an error), the page tries again this much later. */
const RETRY_REFUSED_MS = 3000;

type Live = 'connecting' | 'live' | 'reconnecting' | 'paused' | 'ended';

/**
 * An order's page: the saga drawn live from its event stream. The order's
 * secret comes from the link's fragment (`#secret=…`), which the browser never
 * sends to a server, and goes to the API in the Authorization header; an
 * operator signed in at /ops may open any order with the operator token.
 */
export function OrderPage({ orderId }: { orderId: string }) {
  // Read once, as the page opens: an in-page link (the skip link's #main) replaces the fragment, and must not take the secret with it.
  const [credential] = useState(() => new URLSearchParams(location.hash.slice(1)).get('secret') ?? operatorSession.get());
  const [order, setOrder] = useState<Order | null>(null);
  const [missing, setMissing] = useState(credential === null);
  const [live, setLive] = useState<Live>('connecting');

  useEffect(() => {
    if (!credential) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const connect = () => {
      // The browser's own EventSource cannot send a header; this one is the same
      // WHATWG EventSource (reconnection, retry:, Last-Event-ID) over fetch, which can.
      source = new EventSource(`/orders/${encodeURIComponent(orderId)}/events`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...bearer(credential) } }),
      });
      source.addEventListener('open', () => setLive('live'));
      source.addEventListener('order', (event) => {
        setOrder(JSON.parse(event.data) as Order);
        setLive('live');
      });
      source.addEventListener('unavailable', () => setLive('paused'));
      source.addEventListener('end', () => {
        ended = true;
        source?.close();
        setLive('ended');
      });
      source.addEventListener('error', (event) => {
        if (ended) return;
        if ((event as { code?: number }).code === 404) {
          source?.close();
          setMissing(true);
          return;
        }
        setLive('reconnecting');
        // A dropped connection is reconnected by the EventSource itself; an
        // error answer (a 503 while Temporal is away) closes it for good, so we reopen it.
        if (source?.readyState === EventSource.CLOSED) retry = setTimeout(connect, RETRY_REFUSED_MS);
      });
    };
    connect();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, [orderId, credential]);

  if (missing) {
    return (
      <Layout title="Order not found">
        <p>There is no order {orderId} that this page may show.</p>
        <p>An order's page opens from the link its checkout returned, which carries the order's secret after the #.</p>
        <p>
          <a href="/">Back to the store</a>
        </p>
      </Layout>
    );
  }
  return (
    <Layout title={`Order ${orderId}`} wide>
      <LiveBadge live={live} />
      {!order ? <p>Loading the order…</p> : <OrderView order={order} credential={credential!} />}
    </Layout>
  );
}

function LiveBadge({ live }: { live: Live }) {
  const text = {
    connecting: 'Connecting…',
    live: 'Live: changes appear as they happen',
    reconnecting: 'Reconnecting…',
    paused: 'Paused: the order cannot be read right now',
    ended: 'Final: this order will not change any more',
  }[live];
  return (
    <p class={`live live-${live}`} data-live={live}>
      {text}
    </p>
  );
}

function OrderView({ order, credential }: { order: Order; credential: string }) {
  const final = FINAL.includes(order.status);
  const now = useNow(order.timers?.some((t) => t.status === 'running') ?? false);
  return (
    <>
      <section class={`summary status-${order.status}`} aria-labelledby="status-heading">
        <h2 id="status-heading">Status</h2>
        <p class="status" role="status" data-status={order.status}>
          {order.status}
        </p>
        {order.failure && (
          <p class="reason">
            Stopped at <strong>{label(order.failure.step)}</strong>: <code data-reason={order.failure.reason}>{order.failure.reason}</code>. {order.failure.message}
          </p>
        )}
        {order.total != null && <p>Total: {money(order.total, order.currency)}</p>}
        {!order.saga.queryable && (
          <p class="error">
            The saga cannot be queried: its workflow task is on attempt {order.saga.attempt} ({order.saga.cause}).{' '}
            {order.saga.stuck ? 'An operator must rescue it.' : 'It should recover by itself.'}
          </p>
        )}
        <CoordinatedBy order={order} />
        <CancelButton orderId={order.orderId} credential={credential} final={final} />
      </section>

      <div class="columns">
        <section aria-labelledby="steps-heading">
          <h2 id="steps-heading">Steps</h2>
          <ol class="timeline">
            {order.steps.map((step) => (
              <StepItem key={step.name} step={step} order={order} now={now} />
            ))}
          </ol>
        </section>

        <section aria-labelledby="stack-heading">
          <h2 id="stack-heading">Compensation stack</h2>
          <CompensationStack order={order} now={now} />
        </section>

        <section aria-labelledby="timers-heading">
          <h2 id="timers-heading">Deadlines</h2>
          {(order.timers ?? []).length === 0 ? (
            <p>None yet.</p>
          ) : (
            <ul class="timers">
              {order.timers!.map((timer) => (
                <TimerItem key={timer.name} timer={timer} now={now} />
              ))}
            </ul>
          )}
        </section>
      </div>

      {order.coordination === 'choreography' && <EventTimeline events={order.timeline} />}

      <ServicesView order={order} />

      {order.resolutions && (
        <section aria-labelledby="resolutions-heading">
          <h2 id="resolutions-heading">Operator decisions</h2>
          <ul>
            {order.resolutions.map((r) => (
              <li key={r.at}>
                {time(r.at)}: <strong>{r.action}</strong>, “{r.note}”
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

/** Who drives the saga, and where to see what it did: the run's history in the Temporal UI, or the order's own events. */
function CoordinatedBy({ order }: { order: Order }) {
  if (order.coordination === 'choreography') {
    return (
      <p data-coordination="choreography">
        Choreographed: no workflow drives this order; its services react to each other's events. Its steps, undos and deadlines are folded from those
        events, listed below.
      </p>
    );
  }
  const { build } = order;
  return (
    <p data-coordination="orchestration">
      Orchestrated by a Temporal workflow,{' '}
      {build ? (
        <span data-build={build.buildId}>
          on build <code>{build.buildId}</code> of {build.deploymentName} ({behavior(build.behavior)})
        </span>
      ) : (
        <span data-build="">on an unversioned worker</span>
      )}
      .{' '}
      <a href={order.links.temporalUi} target="_blank" rel="noopener noreferrer">
        Open this run in the Temporal UI
      </a>
    </p>
  );
}

/** "Everything that happened to order X": what choreography has no workflow history to show, so the order service keeps it. */
function EventTimeline({ events }: { events: TimelineEntry[] }) {
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">What happened: the order's events</h2>
      <table class="events">
        <caption class="muted">Oldest first. The attempt is the delivery on which the step that published the event succeeded.</caption>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Event</th>
            <th scope="col">Attempt</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event, i) => (
            <tr key={i} data-event={event.type}>
              <td>
                <time dateTime={event.at}>{preciseTime(event.at)}</time>
              </td>
              <td>
                <code>{event.type}</code>
              </td>
              <td>{event.attempt}</td>
              <td>{event.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const STEP_TEXT: Record<string, string> = {
  pending: 'pending',
  skipped: 'skipped (older saga)',
  running: 'running',
  completed: 'done',
  failed: 'failed',
  compensating: 'compensating',
  compensated: 'compensated',
  compensation_failed: 'compensation failed',
};

/** How a step is doing: its state, and for a retried activity in flight, the attempt and why. */
function StepItem({ step, order, now }: { step: StepState; order: Order; now: number }) {
  const undo = UNDO_OF[step.name as keyof typeof UNDO_OF];
  const inFlight = order.activities.find((a) => a.activity === (step.status === 'compensating' ? undo : step.name));
  const retrying = (step.status === 'running' || step.status === 'compensating') && inFlight && inFlight.attempt > 1;
  const state = retrying ? 'retrying' : step.status;
  return (
    <li class={`step step-${state}`} data-step={step.name} data-state={state}>
      <span class="step-name">{label(step.name)}</span>
      <span class="badge">{retrying ? `retrying (attempt ${inFlight.attempt})` : STEP_TEXT[step.status]}</span>
      {retrying && <RetryDetail activity={inFlight} now={now} />}
      {step.status === 'completed' && step.attempts > 1 && <span class="detail">after {step.attempts} attempts</span>}
      {step.status === 'failed' && order.failure?.step === step.name && (
        <span class="detail">
          {order.failure.reason}
          {step.attempts > 1 ? `, after ${step.attempts} attempts` : ''}
        </span>
      )}
    </li>
  );
}

function RetryDetail({ activity, now }: { activity: InFlightActivity; now: number }) {
  const next = activity.nextAttemptAt ? Date.parse(activity.nextAttemptAt) - now : null;
  return (
    <span class="detail">
      {activity.lastFailure ? `why: ${activity.lastFailure.message}` : ''}
      {next !== null && next > 0 ? `; next attempt in ${countdown(next)}` : ''}
    </span>
  );
}

const UNDO_TEXT: Record<UndoState['status'], string> = {
  registered: 'registered',
  undoing: 'undoing',
  undone: 'undone',
  failed: 'refused',
};

/** Top of the stack first: the undos run last in, first out. */
function CompensationStack({ order, now }: { order: Order; now: number }) {
  const stack = [...(order.compensations ?? [])].reverse();
  if (stack.length === 0) return <p>Empty: nothing to undo yet.</p>;
  // A completed saga never runs its undos: the stack is simply dropped.
  const dropped = order.status === 'COMPLETED';
  return (
    <>
      <ol class="stack">
        {stack.map((entry) => {
          const inFlight = order.activities.find((a) => a.activity === entry.undo);
          const retrying = entry.status === 'undoing' && inFlight && inFlight.attempt > 1;
          const failed = order.failedCompensations?.find((f) => f.step === entry.step);
          return (
            <li key={entry.step} class={`undo undo-${entry.status}`} data-undo={entry.undo} data-state={entry.status}>
              <span class="step-name">{label(entry.undo)}</span> <span class="muted">undoes {label(entry.step).toLowerCase()}</span>
              <span class="badge">{retrying ? `retrying (attempt ${inFlight.attempt})` : dropped && entry.status === 'registered' ? 'not needed' : UNDO_TEXT[entry.status]}</span>
              {retrying && <RetryDetail activity={inFlight} now={now} />}
              {entry.status === 'failed' && failed && (
                <span class="detail">
                  {failed.reason}: {failed.message}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      <p class="muted">{dropped ? 'The order completed: nothing is undone.' : 'Last: close the order record with the outcome.'}</p>
    </>
  );
}

const TIMER_TEXT: Record<TimerState['name'], string> = { orderTtl: 'Order TTL', shippingSla: 'Shipping SLA', paymentHold: 'Payment hold' };

function TimerItem({ timer, now }: { timer: TimerState; now: number }) {
  const left = Date.parse(timer.endsAt) - now;
  return (
    <li class={`timer timer-${timer.status}`} data-timer={timer.name}>
      <span class="step-name">{TIMER_TEXT[timer.name]}</span>{' '}
      {timer.status === 'running' ? (
        <span>
          <strong>{countdown(left)}</strong> left (ends <time dateTime={timer.endsAt}>{time(timer.endsAt)}</time>)
        </span>
      ) : (
        <span class="badge">{timer.status}</span>
      )}
    </li>
  );
}

/** What each service's own store holds, to compare with the saga's view. */
function ServicesView({ order }: { order: Order }) {
  const { payment, ledger, inventory, shipment, notifications } = order.services;
  return (
    <section aria-labelledby="services-heading">
      <h2 id="services-heading">What each service stored</h2>
      <div class="columns">
        <div class="card">
          <h3>Payment</h3>
          {payment ? (
            <>
              <p>
                <span class="badge" data-payment={payment.status}>
                  {payment.status}
                </span>{' '}
                {money(payment.amount, payment.currency === 'XXX' ? 'USD' : payment.currency)}
              </p>
              {payment.declineCode && <p>Declined: {payment.declineCode}</p>}
              {payment.expiresAt && payment.status === 'AUTHORIZED' && <p>Hold expires {time(payment.expiresAt)}</p>}
              {ledger.length > 0 && (
                <table class="ledger">
                  <caption>Ledger</caption>
                  <thead>
                    <tr>
                      <th scope="col">Movement</th>
                      <th scope="col">Amount</th>
                      <th scope="col">At</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ledger.map((entry, i) => (
                      <tr key={i}>
                        <td>{entry.kind}</td>
                        <td>{money(entry.amount, entry.currency)}</td>
                        <td>{time(entry.at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          ) : (
            <p>No payment.</p>
          )}
        </div>
        <div class="card">
          <h3>Inventory</h3>
          {inventory ? (
            <>
              <p>
                Reservation <span class="badge">{inventory.status}</span>
              </p>
              <ul>
                {inventory.items.map((item) => (
                  <li key={item.sku}>
                    {item.quantity} × {item.sku}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>No reservation.</p>
          )}
        </div>
        <div class="card">
          <h3>Shipping</h3>
          {shipment ? (
            <p>
              Shipment <span class="badge">{shipment.status}</span>
              {shipment.trackingNumber && (
                <>
                  {' '}
                  tracking <code data-tracking>{shipment.trackingNumber}</code>
                </>
              )}
              {shipment.carrier && <> by {shipment.carrier}</>}
            </p>
          ) : (
            <p>No shipment.</p>
          )}
        </div>
        <div class="card">
          <h3>Notification</h3>
          {notifications.length === 0 ? (
            <p>No e-mail yet: it is sent once the order ends.</p>
          ) : (
            notifications.map((n) => (
              <div key={n.eventId} class="email">
                <p>
                  To {n.to}, {time(n.sentAt)}: <strong>{n.subject}</strong>
                </p>
                <p class="muted">{n.body}</p>
              </div>
            ))
          )}
        </div>
      </div>
    </section>
  );
}

/** Offered until the order ends; the API decides, and its refusal (409: shipped, ended) is shown with its reason. */
function CancelButton({ orderId, credential, final }: { orderId: string; credential: string; final: boolean }) {
  const [state, setState] = useState<{ sending: boolean; message?: string; refused?: boolean }>({ sending: false });
  if (final && !state.message) return null;
  const cancel = async () => {
    setState({ sending: true });
    try {
      await api(`/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST', headers: bearer(credential) });
      setState({ sending: false, message: 'Cancellation accepted: the saga stops and undoes what it did.' });
    } catch (err) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(0, { error: String(err) });
      const prefix = failure.status ? `Refused (${failure.status}): ` : '';
      setState({ sending: false, refused: true, message: `${prefix}${failure.body.error}` });
    }
  };
  return (
    <div class="cancel">
      <button type="button" onClick={cancel} disabled={state.sending || final}>
        {state.sending ? 'Cancelling…' : 'Cancel order'}
      </button>
      {state.message && (
        <p class={state.refused ? 'error' : 'ok'} role={state.refused ? 'alert' : 'status'}>
          {state.message}
        </p>
      )}
    </div>
  );
}

/** The current time, ticking every second while a deadline counts down. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
