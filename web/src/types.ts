// The JSON the pages read, as docs/http-api.md describes it. Declared here,
// not imported from api/: the browser bundle takes nothing from the server's
// code but the checkout's vocabulary (domain/checkout-vocabulary.ts) and the
// saga's pure types and constants (workflows/checkout-types.ts).
import type { CheckoutFailure, CheckoutStatus, StepState, TimerState, UndoState } from '../../workflows/checkout-types';

export type { CheckoutStatus, StepState, TimerState, UndoState };
export type { Address } from '../../domain/checkout-vocabulary';
export { UNDO_OF } from '../../domain/checkout-vocabulary';
export { CHECKOUT_STATUSES } from '../../workflows/checkout-types';

export type Product = { sku: string; name: string; price: number; available: number; reserved: number };

export type Issue = { path: (string | number)[]; message: string };
export type ApiError = { error: string; issues?: Issue[] };

/** Who drives an order's saga: a Temporal workflow, or the services reacting to each other's events. */
export type Coordination = 'orchestration' | 'choreography';

/** Only an orchestrated order has a run in the Temporal UI to link to. */
export type Placed = {
  orderId: string;
  coordination: Coordination;
  secret: string;
  links: { page: string; self: string; events: string; temporalUi?: string };
};

export type InFlightActivity = {
  activity: string;
  attempt: number;
  lastFailure: { message: string; type: string | null } | null;
  nextAttemptAt: string | null;
};

/** One event of a choreographed order, as the order service received it. */
export type TimelineEntry = { type: string; at: string; attempt: number; detail?: string };

export type Order = OrderState & (Orchestrated | Choreographed);

/** The saga's view of the order, in the same shape however it is coordinated. */
type OrderState = {
  orderId: string;
  status: CheckoutStatus | string;
  total?: number | null;
  currency?: string;
  steps: StepState[];
  failure?: CheckoutFailure;
  failedCompensations?: CheckoutFailure[];
  resolutions?: { action: string; note: string; at: string }[];
  trackingNumber?: string | null;
  timers?: TimerState[];
  compensations?: UndoState[];
  saga: { queryable: true } | { queryable: false; stuck: boolean; attempt: number; cause: string; message: string };
  activities: InFlightActivity[];
  services: {
    payment: { status: string; amount: number; currency: string; declineCode: string | null; expiresAt: string | null } | null;
    ledger: { kind: string; amount: number; currency: string; at: string }[];
    inventory: { status: string; items: { sku: string; quantity: number }[]; expiresAt: string | null } | null;
    shipment: { status: string; trackingNumber: string | null; carrier: string | null } | null;
    notifications: { eventId: string; channel: string; to: string; subject: string; body: string; sentAt: string }[];
  };
};

/** The worker build a saga runs on (Worker Versioning); null on an unversioned worker. */
export type SagaBuild = { deploymentName: string; buildId: string; behavior: 'PINNED' | 'AUTO_UPGRADE' };

type Orchestrated = { coordination: 'orchestration'; build: SagaBuild | null; links: { self: string; temporalUi: string } };

/** No workflow holds its state: the API folds it from its events, which come along. */
type Choreographed = { coordination: 'choreography'; build: null; timeline: TimelineEntry[]; links: { self: string } };

export type OrderSummary = { orderId: string; status: string; customerId: string | null; startedAt: string; closedAt: string | null; build: SagaBuild | null };
