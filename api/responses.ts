import { z } from 'zod';
import type { CatalogItem, ReservationView } from '../services/inventory/inventory-service';
import type { NotificationView } from '../services/notification/notification-service';
import type { PaymentView } from '../services/payment/payment-service';
import type { ShipmentView } from '../services/shipping/shipping-service';
import { STEPS, TIMERS, UNDO_OF } from '../domain/checkout-vocabulary';
import { CHECKOUT_STATUSES, type CheckoutState, type CheckoutStatus } from '../workflows/checkout-types';
import type { InFlightActivity, OrderSummary, SagaBuild, Unqueryable } from './checkout-client';
import { errorBodySchema } from './http-error';
import { resolveRequestSchema } from './order-request';

// What the API sends, as JSON: the schemas api/openapi.ts documents. Responses
// are not parsed with them at run time (a shape that drifted would turn into a
// 500 for the customer); the types at the bottom of this file tie them to the
// code that builds the responses, and test/api/openapi.test.ts checks real ones.

const isoDateTime = z.iso.datetime();
const count = z.int().nonnegative();
const links = z.object({
  self: z.string().meta({ description: 'This order in the API' }),
  temporalUi: z.url().meta({ description: "The saga's event history in the Temporal Web UI" }),
});
const coordination = z.enum(['orchestration', 'choreography']).meta({
  description: "Who drives the saga: a Temporal workflow (orchestration), or the services reacting to each other's events (choreography, docs/choreography.md)",
});

export const orderAcceptedSchema = z
  .object({
    orderId: z.string(),
    coordination,
    workflowId: z.string().optional().meta({ description: 'Orchestration only' }),
    runId: z.string().optional().meta({ description: 'Orchestration only' }),
    status: z.literal('PENDING'),
    secret: z.string().meta({ description: "The order's secret: `Authorization: Bearer <secret>` reads, watches and cancels it" }),
    links: links.partial({ temporalUi: true }).extend({
      page: z.string().meta({ description: "The order's page, with its secret in the fragment (never sent to a server)" }),
      events: z.string().meta({ description: 'The order as Server-Sent Events' }),
    }),
  })
  .meta({ id: 'OrderAccepted', description: 'The saga has started (or, for a replayed Idempotency-Key, had started): read the order to follow it' });
export type OrderAccepted = z.output<typeof orderAcceptedSchema>;

const stepState = z.object({
  name: z.enum(STEPS),
  status: z.enum(['pending', 'skipped', 'running', 'completed', 'failed', 'compensating', 'compensated', 'compensation_failed']),
  attempts: count,
});
const failure = z.object({
  step: z.enum(STEPS),
  reason: z.string().meta({ description: 'Machine-readable, e.g. `out_of_stock`' }),
  message: z.string(),
});

export const checkoutStateSchema = z
  .object({
    orderId: z.string(),
    status: z.enum(CHECKOUT_STATUSES),
    total: count.nullable().meta({ description: 'In cents; null until the order is priced' }),
    currency: z.string(),
    steps: z.array(stepState),
    failure: failure.optional().meta({ description: 'Why the saga did not complete' }),
    failedCompensations: z.array(failure).optional().meta({ description: 'Compensations refused for good: they wait for an operator' }),
    resolutions: z.array(resolveRequestSchema.extend({ at: isoDateTime })).optional(),
    trackingNumber: z.string().nullable().optional(),
    timers: z
      .array(z.object({ name: z.enum(TIMERS), endsAt: isoDateTime, status: z.enum(['running', 'stopped', 'expired']) }))
      .optional()
      .meta({ description: "The saga's deadlines: absent from sagas run by an older worker" }),
    compensations: z
      .array(
        z.object({
          step: z.enum(STEPS),
          undo: z.string().meta({
            description: Object.values(UNDO_OF)
              .map((u) => `\`${u}\``)
              .join(', '),
          }),
          status: z.enum(['registered', 'undoing', 'undone', 'failed']),
        }),
      )
      .optional()
      .meta({ description: 'The compensation stack, in the order the undos were pushed: absent from sagas run by an older worker' }),
  })
  .meta({ id: 'CheckoutState', description: "The saga's own state, from its status query (or its result, once closed)" });

export const unqueryableSchema = z
  .object({
    queryable: z.literal(false),
    stuck: z.boolean().meta({ description: 'It will not recover by itself: an operator must rescue it (`npm run ops -- rescue`)' }),
    attempt: count.meta({ description: "The pending workflow task's attempt" }),
    cause: z.string().meta({
      description:
        "`non_deterministic_error`, `workflow_worker_unhandled_failure`, `timed_out`, …; or, for a saga that is only slow to answer, `waiting_for_worker` (its workflow task has waited longer than a read may take) or `query_timeout` (no answer within the read's timeout)",
    }),
    message: z.string(),
    since: isoDateTime.nullable().meta({ description: 'When the failure that started the retries happened' }),
  })
  .meta({
    id: 'UnqueryableSaga',
    description:
      "Why the saga's own state is not in the answer: Temporal refuses its queries and updates (its workflow task keeps failing), or it did not answer in time",
  });

/** Every error body of the checkout API: http-error.ts's, and `saga` when the saga cannot take an update. */
export const apiErrorSchema = errorBodySchema
  .extend({
    saga: unqueryableSchema.optional(),
    cancel: z.enum(['sent', 'accepted']).optional().meta({
      description:
        'A cancel that got no answer in time (503): `sent`, Temporal holds it and the saga has not taken it yet; `accepted`, the saga has taken it and its outcome is not known yet. Send the cancel again after Retry-After: it is the same cancel, never a second one',
    }),
  })
  .meta({ id: 'Error' });

const payment = z.object({
  paymentId: z.string(),
  orderId: z.string(),
  status: z.enum(['AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'DECLINED']),
  amount: count.meta({ description: 'In cents' }),
  currency: z.string(),
  declineCode: z.string().nullable(),
  expiresAt: isoDateTime.nullable(),
});
const reservation = z.object({
  orderId: z.string(),
  status: z.enum(['HELD', 'COMMITTED', 'RELEASED', 'EXPIRED']),
  items: z.array(z.object({ sku: z.string(), quantity: count })),
  expiresAt: isoDateTime.nullable(),
});
const shipment = z.object({
  orderId: z.string(),
  status: z.enum(['CREATED', 'CANCELLED']),
  trackingNumber: z.string().nullable(),
  carrier: z.string().nullable(),
});
const notification = z.object({
  eventId: z.string(),
  channel: z.string(),
  to: z.string(),
  subject: z.string(),
  body: z.string(),
  sentAt: isoDateTime,
});
const ledgerEntry = z.object({
  kind: z.enum(['AUTHORIZE', 'RENEW', 'CAPTURE', 'VOID', 'REFUND']),
  amount: count.meta({ description: 'In cents' }),
  currency: z.string(),
  at: isoDateTime,
});
const services = z
  .object({
    payment: payment.nullable(),
    ledger: z.array(ledgerEntry).meta({ description: "The payment's movements, oldest first" }),
    inventory: reservation.nullable(),
    shipment: shipment.nullable(),
    notifications: z.array(notification),
  })
  .meta({ description: "What each service's own store holds for the order: it should agree with the saga's view" });

const inFlightActivity = z.object({
  activity: z.string(),
  attempt: count.min(1),
  lastFailure: z.object({ message: z.string(), type: z.string().nullable() }).nullable(),
  nextAttemptAt: isoDateTime.nullable().meta({ description: 'While it waits for its next attempt' }),
});
const activities = z
  .array(inFlightActivity)
  .meta({ description: "The saga's regular activities in flight, as Temporal sees them: from attempt 2 on, one is being retried, and `lastFailure` says why" });

export const sagaBuildSchema = z
  .object({
    deploymentName: z.string().meta({ description: "The worker deployment (the worker's DEPLOYMENT_NAME)" }),
    buildId: z.string().meta({ description: 'Its build that runs the saga (docs/deploys.md)' }),
    behavior: z.enum(['PINNED', 'AUTO_UPGRADE']).meta({
      description:
        "`PINNED`: the saga runs to its end on this build (or the one an operator moved it to); `AUTO_UPGRADE`: it moves to the deployment's current build",
    }),
  })
  .meta({ id: 'SagaBuild', description: 'The worker deployment version a saga runs on (Worker Versioning)' });
const build = sagaBuildSchema.nullable().meta({
  description:
    'The build the saga runs on, as Temporal says once a versioned worker has completed one of its workflow tasks; null on an unversioned worker, or before that',
});

const timelineEntry = z.object({
  type: z.string().meta({ description: 'The event, e.g. `InventoryReserved`, `StepFailed`, `PaymentReversed`' }),
  at: isoDateTime,
  attempt: count.min(1).meta({ description: 'The delivery on which the step that published it succeeded' }),
  detail: z.string().optional().meta({ description: "The failure (`step: reason`), the stop reason, the tracking number or the operator's `action: note`" }),
});

export const orderSchema = z
  .union([
    checkoutStateSchema.extend({
      coordination: z.literal('orchestration'),
      saga: z.object({ queryable: z.literal(true) }),
      activities,
      build,
      services,
      links,
    }),
    checkoutStateSchema.extend({
      coordination: z.literal('choreography'),
      saga: z.object({ queryable: z.literal(true) }),
      activities: activities.max(0).meta({ description: 'Always empty: no workflow runs activities for a choreographed order' }),
      build: z.null().meta({ description: 'Always null: no worker build runs a choreographed order' }),
      timeline: z.array(timelineEntry).meta({ description: 'Every event of the order the order service received, oldest first: what happened to it' }),
      services,
      links: links.pick({ self: true }),
    }),
    z.object({
      coordination: z.literal('orchestration'),
      orderId: z.string(),
      status: z.string().meta({ description: 'The last status the saga recorded (its OrderStatus search attribute)' }),
      steps: z.array(stepState).max(0).meta({ description: "Always empty: the steps live in the saga's state, which only its query reads" }),
      saga: unqueryableSchema,
      activities,
      build,
      services,
      links,
    }),
  ])
  .meta({
    id: 'Order',
    description:
      "The saga's state, each service's view and links. For an orchestrated order, `saga.queryable` says where the rest came from: the saga itself, or, when Temporal refuses to query it, only the last status it recorded. For a choreographed one, the state is folded from the order's events (`timeline`)",
  });

export const orderSummarySchema = z
  .object({
    orderId: z.string(),
    workflowId: z.string().nullable().meta({ description: 'Null for a choreographed order: no workflow runs it' }),
    status: z.string().meta({
      description:
        "The saga's OrderStatus search attribute, or the workflow's execution status if it has none; for a choreographed order, its record's status (PENDING while the saga runs)",
    }),
    customerId: z.string().nullable(),
    startedAt: isoDateTime,
    closedAt: isoDateTime.nullable(),
    build: sagaBuildSchema.nullable().meta({
      description:
        "The build the saga runs on, from Temporal's visibility store (the TemporalWorkerDeploymentVersion search attribute); null on an unversioned worker, and for a choreographed order",
    }),
  })
  .meta({ id: 'OrderSummary' });

// An object with a property per status, rather than a record over the enum, whose JSON Schema requires
// properties it never defines (strict validators refuse it).
export const orderCountsSchema = z
  .object(Object.fromEntries(CHECKOUT_STATUSES.map((status) => [status, count])) as Record<CheckoutStatus, typeof count>)
  .meta({ id: 'OrderCounts', description: "How many of this deployment's orders are in each status (the OrderStatus search attribute)" });

export const catalogItemSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    price: count.meta({ description: 'In cents' }),
    available: count,
    reserved: count,
  })
  .meta({ id: 'CatalogItem' });

// The shapes above are written by hand; the types of what the routes send live
// with the code that builds it. Each line fails to compile when the two part.
type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
// Exported only so that no linter takes it for dead code: it is checked, never used.
export type ResponseTypesAgree = [
  Assert<Same<z.output<typeof checkoutStateSchema>, CheckoutState>>,
  Assert<Same<z.output<typeof unqueryableSchema>, Unqueryable>>,
  Assert<Same<z.output<typeof payment>, Json<PaymentView>>>,
  Assert<Same<z.output<typeof reservation>, Json<ReservationView>>>,
  Assert<Same<z.output<typeof shipment>, ShipmentView>>,
  Assert<Same<z.output<typeof notification>, NotificationView>>,
  Assert<Same<z.output<typeof orderSummarySchema>, Json<OrderSummary>>>,
  Assert<Same<z.output<typeof inFlightActivity>, InFlightActivity>>,
  Assert<Same<z.output<typeof sagaBuildSchema>, SagaBuild>>,
  Assert<Same<z.output<typeof orderCountsSchema>, Record<CheckoutStatus, number>>>,
  Assert<Same<z.output<typeof catalogItemSchema>, CatalogItem>>,
];
