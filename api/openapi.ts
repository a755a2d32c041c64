import { z } from 'zod';
import { createDocument, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { STEPS, UNDOABLE_STEPS, UNDO_OF } from '../domain/checkout-vocabulary';
import { DEFAULT_TIMEOUTS, UPDATE_TIMEOUT_MS } from './checkout-client';
import { countsQuerySchema, idempotencyKeySchema, listQuerySchema, orderIdSchema, orderRequestSchema, resolveRequestSchema } from './order-request';
import {
  apiErrorSchema,
  catalogItemSchema,
  checkoutStateSchema,
  orderAcceptedSchema,
  orderCountsSchema,
  orderSchema,
  orderSummarySchema,
  unqueryableSchema,
} from './responses';

// The OpenAPI 3.1 description served at GET /openapi.json. zod-openapi renders
// the zod schemas the API validates with through zod's own z.toJSONSchema
// (draft 2020-12, OpenAPI 3.1's dialect; request bodies and parameters as
// input, responses as output), so no schema is written out twice. What is
// written here (the routes, their statuses, headers and examples) is checked
// against the app by test/api/openapi.test.ts.

type ApiError = z.output<typeof apiErrorSchema>;
type Examples = Record<string, { summary: string; value: unknown }>;

const json = (schema: z.ZodType, examples?: Examples) => ({ 'application/json': { schema, ...(examples && { examples }) } });
const error = (description: string, examples: Record<string, { summary: string; value: ApiError }>): ZodOpenApiResponseObject => ({
  description,
  content: json(apiErrorSchema, examples),
});
const retryAfter = z.object({
  'Retry-After': z.int().positive().meta({ description: 'Seconds to wait before trying again' }),
});

const ORDER_ID = 'ord_5d41402abc4b2a76b9719d911017c592';
const orderId = orderIdSchema.meta({ description: 'From the 202 of POST /orders', param: { example: ORDER_ID } });
const orderPath = z.object({ orderId });

const stuckSaga: z.output<typeof unqueryableSchema> = {
  queryable: false,
  stuck: true,
  attempt: 3,
  cause: 'non_deterministic_error',
  message: '[TMPRL1100] Nondeterminism error: …',
  since: '2026-01-01T12:00:00.000Z',
};

// Responses several operations give, each a component they refer to.
const tooManyRequests: ZodOpenApiResponseObject = {
  id: 'TooManyRequests',
  description: 'More requests from this client IP in a minute than RATE_LIMIT_PER_MINUTE allows',
  headers: retryAfter.extend({
    RateLimit: z.string().meta({ description: 'IETF draft-8, like RateLimit-Policy; both are on every rate-limited response' }),
    'RateLimit-Policy': z.string(),
  }),
  content: json(apiErrorSchema, {
    tooMany: { summary: 'Rate limited', value: { error: "Too many requests: at most 600 a minute; retry after the Retry-After header's seconds" } },
  }),
};
const temporalUnavailable: ZodOpenApiResponseObject = {
  id: 'TemporalUnavailable',
  description:
    "Temporal is out of reach, or did not answer within the request's timeout (CANCEL_TIMEOUT_MS, READ_TIMEOUT_MS, START_TIMEOUT_MS): an outage, worth trying again after Retry-After (a POST /orders with the same Idempotency-Key)",
  headers: retryAfter,
  content: json(apiErrorSchema, {
    unavailable: { summary: 'Temporal unavailable', value: { error: 'Temporal is unavailable; try again later' } },
    slow: { summary: 'No answer in time', value: { error: 'Temporal did not answer in time; try again shortly' } },
  }),
};
const orderNotFound: ZodOpenApiResponseObject = {
  id: 'OrderNotFound',
  description:
    "No such order (an id that is not a valid order id is none either), or no such order for this caller: without the order's secret or the operator token",
  content: json(apiErrorSchema, { notFound: { summary: 'Unknown order', value: { error: 'Order not found' } } }),
};

// A JSON body: these come before it is parsed.
const bodyErrors = {
  413: error('A body over the size limit (BODY_LIMIT in api/app.ts)', { tooLarge: { summary: 'Too large', value: { error: 'Request body too large' } } }),
  415: error('Not application/json', { notJson: { summary: 'Wrong Content-Type', value: { error: 'Content-Type must be application/json' } } }),
};

const operator = {
  security: [{ operatorToken: [] }],
  401: {
    description: 'No usable bearer token',
    headers: z.object({ 'WWW-Authenticate': z.string().meta({ header: { example: 'Bearer realm="operator"' } }) }),
    content: json(apiErrorSchema, {
      noToken: { summary: 'No token', value: { error: 'Operator endpoints require Authorization: Bearer <OPERATOR_TOKEN>' } },
    }),
  },
  403: error('A bearer token that is not OPERATOR_TOKEN', { wrongToken: { summary: 'Wrong token', value: { error: 'Invalid operator token' } } }),
};

/** An order's routes: its secret (from the 202 of POST /orders) or the operator token. */
const ownerOrOperator: Record<string, string[]>[] = [{ orderSecret: [] }, { operatorToken: [] }];

/** A page of the web app: HTML, or the 404 of an app that was not built. */
const webPage = (operationId: string, summary: string) => ({
  get: {
    operationId,
    summary,
    responses: {
      200: { description: 'The page (it loads /assets/app.js and /assets/styles.css)', content: { 'text/html': { schema: z.string() } } },
      404: error('The web app was not built (npm start and the Docker image build it)', {
        notBuilt: { summary: 'Not built', value: { error: 'The web app is not built: run `npm run build:web` (npm start does)' } },
      }),
      429: tooManyRequests,
    },
  },
});

/** Both updates answer this way when the saga cannot take them (see cannotUpdate in api/app.ts). */
const updateRefused = {
  409: {
    stuck: {
      summary: 'The saga is stuck: an operator must rescue it',
      value: {
        error: `The saga of order ${ORDER_ID} is stuck: its workflow task is on attempt 3 (first failure: non_deterministic_error). An operator must rescue it with \`npm run ops -- rescue\`.`,
        saga: stuckSaga,
      },
    },
  },
  503: {
    recovering: {
      summary: 'The saga is recovering: try again later',
      value: {
        error: `The saga of order ${ORDER_ID} is recovering: its workflow task is being retried (after: timed_out); try again later`,
        saga: { ...stuckSaga, stuck: false, attempt: 2, cause: 'timed_out', message: 'Workflow task timed out' },
      },
    },
    unavailable: { summary: 'Temporal unavailable', value: { error: 'Temporal is unavailable; try again later' } },
  },
} satisfies Record<number, Record<string, { summary: string; value: ApiError }>>;

/** A cancel that got no answer within CANCEL_TIMEOUT_MS (cancelPending in api/app.ts). */
const cancelPending = {
  cancelSent: {
    summary: 'Not taken yet: send it again',
    value: {
      error: `The saga of order ${ORDER_ID} has not taken the cancel within ${DEFAULT_TIMEOUTS.cancelMs / 1000} s: its workflow task waits for a worker. Temporal holds the cancel; send it again to learn its outcome (the same cancel, not a second one)`,
      cancel: 'sent',
    },
  },
  cancelAccepted: {
    summary: 'Taken, outcome not known yet: send it again',
    value: {
      error: `The saga of order ${ORDER_ID} has taken the cancel but did not answer within ${DEFAULT_TIMEOUTS.cancelMs / 1000} s; send the cancel again for its outcome (the same cancel, not a second one)`,
      cancel: 'accepted',
    },
  },
} satisfies Record<string, { summary: string; value: ApiError }>;

/** A resolve that got no answer within UPDATE_TIMEOUT_MS. */
const resolveNoAnswer = {
  noAnswer: {
    summary: `No answer within ${UPDATE_TIMEOUT_MS / 1000} s`,
    value: {
      error: `The saga of order ${ORDER_ID} did not answer within ${UPDATE_TIMEOUT_MS / 1000} s; the request may still take effect, so read the order before sending it again`,
    },
  },
} satisfies Record<string, { summary: string; value: ApiError }>;

// What GET /orders/{orderId} answers, as a real run of the README's order did.
const RUN_ID = '01a22db0-6b16-7ce9-955f-1c498b123784';
const links = {
  self: `/orders/${ORDER_ID}`,
  temporalUi: `http://127.0.0.1:8233/namespaces/default/workflows/order-${ORDER_ID}/${RUN_ID}/history`,
};
const SECRET = 'QVLTex9MypJbyP9RGAlzn83NhcCYteJBHuTnoZnTuys';
const payment = {
  paymentId: 'fec0f072-044e-48cf-9179-cc3d5633ff0c',
  orderId: ORDER_ID,
  status: 'CAPTURED',
  amount: 12900,
  currency: 'USD',
  declineCode: null,
  expiresAt: '2026-01-01T12:10:00.000Z',
};
const reservation = { orderId: ORDER_ID, status: 'COMMITTED', items: [{ sku: 'KB-001', quantity: 1 }], expiresAt: '2026-01-01T13:00:00.000Z' };
/** The three deadlines of the examples, all in one state. */
const timers = (status: 'running' | 'stopped') => [
  { name: 'orderTtl', endsAt: '2026-01-01T12:15:00.000Z', status },
  { name: 'paymentHold', endsAt: '2026-01-01T12:10:00.000Z', status },
  { name: 'shippingSla', endsAt: '2026-01-01T12:05:01.000Z', status },
];
/** A saga past its shipment with nothing undone: every undo registered. */
const REGISTERED_UNDOS = UNDOABLE_STEPS.map((step) => ({ step, undo: UNDO_OF[step], status: 'registered' }));
/** What the services hold while the saga is at the carrier: authorized, reserved, nothing shipped. */
const servicesBeforeShipment = {
  payment: { ...payment, status: 'AUTHORIZED' },
  ledger: [{ kind: 'AUTHORIZE', amount: 12900, currency: 'USD', at: '2026-01-01T12:00:01.000Z' }],
  inventory: { ...reservation, status: 'HELD' },
  shipment: null,
  notifications: [],
};
/** The worker build the example sagas ran on (Worker Versioning, docs/deploys.md). */
const build = { deploymentName: 'checkout', buildId: '52853da0f209f753', behavior: 'PINNED' };
const orderExamples: Examples = {
  completed: {
    summary: 'Completed: the saga and the services agree',
    value: {
      orderId: ORDER_ID,
      status: 'COMPLETED',
      total: 12900,
      currency: 'USD',
      steps: STEPS.map((name) => ({ name, status: 'completed', attempts: 1 })),
      trackingNumber: 'TRKDA086F999693',
      timers: timers('stopped'),
      compensations: REGISTERED_UNDOS,
      coordination: 'orchestration',
      saga: { queryable: true },
      activities: [],
      build,
      services: {
        payment,
        ledger: [
          { kind: 'AUTHORIZE', amount: 12900, currency: 'USD', at: '2026-01-01T12:00:01.000Z' },
          { kind: 'CAPTURE', amount: 12900, currency: 'USD', at: '2026-01-01T12:00:01.500Z' },
        ],
        inventory: reservation,
        shipment: { orderId: ORDER_ID, status: 'CREATED', trackingNumber: 'TRKDA086F999693', carrier: 'FAKE-EXPRESS' },
        notifications: [
          {
            eventId: '9b2e4f1a-5c3d-4e8f-a1b2-c3d4e5f60718',
            channel: 'email',
            to: 'cust_1@example.com',
            subject: `Your order ${ORDER_ID} is confirmed`,
            body: '…',
            sentAt: '2026-01-01T12:00:02.000Z',
          },
        ],
      },
      links,
    },
  },
  unqueryable: {
    summary: 'A saga Temporal will not query: the last status it recorded, no steps, and why',
    value: {
      orderId: ORDER_ID,
      status: 'CREATING_SHIPMENT',
      steps: [],
      coordination: 'orchestration',
      saga: stuckSaga,
      activities: [],
      build,
      services: servicesBeforeShipment,
      links,
    },
  },
  retrying: {
    summary: 'The carrier is being retried: its attempt and why, from the run as Temporal describes it',
    value: {
      orderId: ORDER_ID,
      status: 'CREATING_SHIPMENT',
      total: 12900,
      currency: 'USD',
      steps: STEPS.map((name, i) => ({ name, status: i < 4 ? 'completed' : i === 4 ? 'running' : 'pending', attempts: i < 4 ? 1 : 0 })),
      timers: timers('running'),
      compensations: REGISTERED_UNDOS,
      coordination: 'orchestration',
      saga: { queryable: true },
      activities: [
        {
          activity: 'createShipment',
          attempt: 3,
          lastFailure: { message: 'Carrier timed out', type: 'TransientError' },
          nextAttemptAt: '2026-01-01T12:00:04.000Z',
        },
      ],
      build,
      services: servicesBeforeShipment,
      links,
    },
  },
  choreographed: {
    summary: 'A choreographed order, compensated: its state folded from its events',
    value: {
      orderId: ORDER_ID,
      status: 'COMPENSATED',
      total: 12900,
      currency: 'USD',
      steps: STEPS.map((name, i) => ({
        name,
        status: i === 0 ? 'compensated' : i < 3 ? 'completed' : i === 3 ? 'failed' : 'pending',
        attempts: i < 4 ? 1 : 0,
      })),
      failure: { step: 'authorizePayment', reason: 'card_declined', message: 'Card declined (card_declined)' },
      trackingNumber: null,
      timers: [{ name: 'orderTtl', endsAt: '2026-01-01T12:15:00.000Z', status: 'stopped' }],
      compensations: [
        { step: 'reserveInventory', undo: 'releaseInventory', status: 'undone' },
        { step: 'authorizePayment', undo: 'reversePayment', status: 'undone' },
      ],
      coordination: 'choreography',
      saga: { queryable: true },
      activities: [],
      build: null,
      timeline: [
        { type: 'OrderPlaced', at: '2026-01-01T12:00:00.000Z', attempt: 1 },
        { type: 'FraudChecked', at: '2026-01-01T12:00:00.040Z', attempt: 1 },
        { type: 'InventoryReserved', at: '2026-01-01T12:00:00.080Z', attempt: 1 },
        { type: 'StepFailed', at: '2026-01-01T12:00:00.120Z', attempt: 1, detail: 'authorizePayment: card_declined' },
        { type: 'ShipmentCancelled', at: '2026-01-01T12:00:00.160Z', attempt: 1, detail: 'authorizePayment: card_declined' },
        { type: 'PaymentReversed', at: '2026-01-01T12:00:00.200Z', attempt: 1, detail: 'authorizePayment: card_declined' },
        { type: 'InventoryReleased', at: '2026-01-01T12:00:00.240Z', attempt: 1, detail: 'authorizePayment: card_declined' },
      ],
      services: {
        ...servicesBeforeShipment,
        payment: { ...payment, status: 'DECLINED', declineCode: 'card_declined', expiresAt: null },
        ledger: [],
        inventory: { ...reservation, status: 'RELEASED' },
      },
      links: { self: links.self },
    },
  },
};

const README_ORDER = {
  customerId: 'cust_1',
  items: [{ sku: 'KB-001', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
};

export const paths = {
  '/': webPage('storefront', 'The storefront: the catalog, a cart and the checkout form (docs/web.md)'),
  '/ops': webPage('operationsConsole', 'The operations console; it asks for the operator token once per browser session'),
  '/healthz': {
    get: {
      operationId: 'health',
      summary: 'Whether PostgreSQL and Temporal answer (not rate limited)',
      responses: {
        200: { description: 'Both answer', content: json(z.object({ status: z.literal('ok') })) },
        503: { description: 'One of them does not', content: json(z.object({ status: z.literal('unavailable') })) },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openApi',
      summary: 'This description',
      responses: { 200: { description: 'This document', content: json(z.looseObject({ openapi: z.literal('3.1.0') })) }, 429: tooManyRequests },
    },
  },
  '/catalog': {
    get: {
      operationId: 'catalog',
      summary: 'Every SKU with its price and stock',
      responses: { 200: { description: 'By SKU', content: json(z.array(catalogItemSchema)) }, 429: tooManyRequests },
    },
  },
  '/orders': {
    post: {
      operationId: 'placeOrder',
      summary: 'Starts the checkout saga for an order',
      description:
        'Validation is strict: unknown fields are refused, SKUs must be unique and in the catalog, the payment is a `tok_…` token (never card data). An invalid order starts nothing and writes nothing. `coordination` picks who drives the saga: a Temporal workflow (`orchestration`, the default) or the services themselves (`choreography`: the order and its first event are written in one transaction, and the services react to each other; docs/choreography.md).',
      requestParams: {
        header: z.object({
          'Idempotency-Key': idempotencyKeySchema.optional().meta({
            description: 'Sending the same request again with the same key replays its 202 and starts no second saga',
            param: { example: 'checkout-7f3a9c21' },
          }),
        }),
      },
      requestBody: {
        required: true,
        content: json(orderRequestSchema, { quickStart: { summary: "The README's quick start: one keyboard, paid with a test card", value: README_ORDER } }),
      },
      responses: {
        202: {
          description: 'The saga has started; follow it at Location',
          headers: z.object({
            Location: z.string().meta({ header: { example: `/orders/${ORDER_ID}` } }),
            'Idempotent-Replayed': z.literal('true').optional().meta({ description: "Only on a replay: this key's saga had already started" }),
          }),
          content: json(orderAcceptedSchema, {
            accepted: {
              summary: 'Started',
              value: {
                orderId: ORDER_ID,
                coordination: 'orchestration',
                workflowId: `order-${ORDER_ID}`,
                runId: RUN_ID,
                status: 'PENDING',
                secret: SECRET,
                links: { ...links, page: `/orders/${ORDER_ID}#secret=${SECRET}`, events: `/orders/${ORDER_ID}/events` },
              },
            },
          }),
        },
        400: error('An invalid body, malformed JSON or an invalid Idempotency-Key', {
          invalidBody: {
            summary: 'A zero quantity and an unknown field',
            value: {
              error: 'Invalid request body',
              issues: [
                { path: ['items', 0, 'quantity'], message: 'quantity must be positive' },
                { path: [], message: 'Unrecognized key: "coupon"' },
              ],
            },
          },
          cardNumber: {
            summary: 'A card number instead of a token',
            value: {
              error: 'Invalid request body',
              issues: [
                { path: ['payment', 'token'], message: 'a payment token such as tok_visa' },
                { path: ['payment', 'token'], message: "looks like a card number: send the payment provider's token, never card data" },
              ],
            },
          },
          malformed: { summary: 'Not JSON', value: { error: 'Malformed JSON body' } },
          badKey: {
            summary: 'An Idempotency-Key with a space',
            value: { error: 'Invalid Idempotency-Key header', issues: [{ path: [], message: 'printable ASCII without spaces' }] },
          },
        }),
        ...bodyErrors,
        422: error('A SKU the catalog does not know, or an Idempotency-Key already used with another body', {
          unknownSku: {
            summary: 'Unknown SKU',
            value: { error: 'Unknown SKU: NOPE-999', issues: [{ path: ['items', 0, 'sku'], message: 'unknown SKU' }] },
          },
          keyReused: { summary: 'Key reused', value: { error: 'Idempotency-Key was already used with a different request body' } },
        }),
        429: tooManyRequests,
        503: temporalUnavailable,
      },
    },
    get: {
      operationId: 'listOrders',
      summary: 'Orders by status and customer, from the saga search attributes, newest first, a page at a time (operators only)',
      security: operator.security,
      requestParams: {
        query: listQuerySchema.extend({
          coordination: listQuerySchema.shape.coordination.meta({
            description:
              "`choreography` lists choreographed orders, from the order service's records (their status is PENDING while the saga runs); otherwise the orchestrated ones, from Temporal",
            param: { example: 'choreography' },
          }),
          status: listQuerySchema.shape.status.meta({ param: { example: 'FAILED_NEEDS_MANUAL' } }),
          customerId: listQuerySchema.shape.customerId.meta({ param: { example: 'cust_1' } }),
          limit: listQuerySchema.shape.limit.meta({ description: 'Page size: 1 to 100, 100 by default', param: { example: 20 } }),
          pageToken: listQuerySchema.shape.pageToken.meta({
            description: "From the previous page's Link header: Temporal's token, sealed by this API",
            param: { example: 'CgZvcmRlcnMQAQ.kX1Xd3lE8h9Y2c9y5JmPbA' },
          }),
        }),
      },
      responses: {
        200: {
          description: 'The orders that match',
          headers: z.object({
            Link: z
              .string()
              .optional()
              .meta({
                description: 'RFC 8288: the next page, when there is one',
                header: { example: '</orders?limit=20&pageToken=CgZvcmRlcnMQAQ.kX1Xd3lE8h9Y2c9y5JmPbA>; rel="next"' },
              }),
          }),
          content: json(z.array(orderSummarySchema)),
        },
        400: error('An unknown status, an invalid customerId or another parameter', {
          unknownStatus: {
            summary: 'Unknown status',
            value: { error: 'Invalid query', issues: [{ path: ['status'], message: 'Invalid option: expected one of "PENDING"|"CHECKING_FRAUD"|…' }] },
          },
        }),
        401: operator[401],
        403: operator[403],
        429: tooManyRequests,
        503: temporalUnavailable,
      },
    },
  },
  '/order-counts': {
    get: {
      operationId: 'countOrders',
      summary: 'How many orders are in each status (operators only)',
      security: operator.security,
      requestParams: {
        query: countsQuerySchema.extend({
          coordination: countsQuerySchema.shape.coordination.meta({
            description: "`choreography` counts choreographed orders by their record's status; otherwise the orchestrated ones, from Temporal",
            param: { example: 'choreography' },
          }),
        }),
      },
      responses: {
        200: { description: 'One count per status', content: json(orderCountsSchema) },
        401: operator[401],
        403: operator[403],
        429: tooManyRequests,
        503: temporalUnavailable,
      },
    },
  },
  '/orders/{orderId}': {
    get: {
      operationId: 'getOrder',
      summary: "The saga's state, and what each service stored for the order (its secret, or the operator token)",
      security: ownerOrOperator,
      requestParams: { path: orderPath },
      responses: {
        200: {
          description:
            "Also when the saga cannot say in time: Temporal refuses to query it (its workflow task keeps failing, or is being retried), its workflow task has waited longer than a read may take, or its status query got no answer within READ_TIMEOUT_MS. Then `saga.queryable` is false and says why, `status` is the last one the saga recorded, `steps` is empty, and what only the saga knows is absent. A browser that asks for HTML gets the order's page instead (`Vary: Accept`), which reads the order as JSON.",
          content: { ...json(orderSchema, orderExamples), 'text/html': { schema: z.string() } },
        },
        404: orderNotFound,
        429: tooManyRequests,
        503: temporalUnavailable,
      },
    },
  },
  '/orders/{orderId}/events': {
    get: {
      operationId: 'watchOrder',
      summary: 'The order, pushed as Server-Sent Events on every change (its secret, or the operator token)',
      description:
        'Events: `order` (first, then on every change; `data` is the order as GET /orders/{orderId} answers it, `id` names its content), `unavailable` (a read failed; the stream stays open), `end` (the order can no longer change; the stream closes). `retry: 1000`; a client that reconnects with Last-Event-ID gets the order again only if it changed. One poller per watched order, shared by all its viewers.',
      security: ownerOrOperator,
      requestParams: {
        path: orderPath,
        header: z.object({
          'Last-Event-ID': z
            .string()
            .optional()
            .meta({ description: 'The id of the last `order` event this client got', param: { example: '4FzB3jKq0vV1c8Tn2mXy1A' } }),
        }),
      },
      responses: {
        200: { description: 'The stream', content: { 'text/event-stream': { schema: z.string() } } },
        404: orderNotFound,
        429: tooManyRequests,
        503: temporalUnavailable,
      },
    },
  },
  '/orders/{orderId}/cancel': {
    post: {
      operationId: 'cancelOrder',
      summary: 'Cancels the order: the saga compensates what it did (no body; its secret, or the operator token)',
      security: ownerOrOperator,
      requestParams: { path: orderPath },
      responses: {
        202: {
          description: 'The state; compensation goes on in the saga. Cancelling a cancelled order again is a 202 too',
          content: json(checkoutStateSchema),
        },
        404: orderNotFound,
        409: error('The order has shipped or has ended, or its saga is stuck', {
          shipped: { summary: 'Shipped', value: { error: `Order ${ORDER_ID} has shipped and can no longer be cancelled` } },
          ended: { summary: 'Ended', value: { error: `Order ${ORDER_ID} is already COMPLETED` } },
          ...updateRefused[409],
        }),
        429: tooManyRequests,
        503: {
          ...error(
            'The saga has not answered the cancel within CANCEL_TIMEOUT_MS (`cancel` says how far it got: send it again after Retry-After, it is the same cancel), or it is recovering, or Temporal is out of reach or slow',
            {
              ...cancelPending,
              ...updateRefused[503],
              slow: { summary: 'No answer in time', value: { error: 'Temporal did not answer in time; try again shortly' } },
            },
          ),
          headers: retryAfter,
        },
      },
    },
  },
  '/orders/{orderId}/resolve': {
    post: {
      operationId: 'resolveOrder',
      summary: "An operator's decision on a FAILED_NEEDS_MANUAL order (operators only)",
      security: operator.security,
      requestParams: { path: orderPath },
      requestBody: {
        required: true,
        content: json(resolveRequestSchema, {
          retry: { summary: 'Try the refused compensations again', value: { action: 'retry', note: 'provider was down' } },
          markResolved: { summary: 'Close the case: settled outside the system', value: { action: 'mark-resolved', note: 'voided by phone, ticket 7' } },
        }),
      },
      responses: {
        200: { description: 'The state after the decision played out', content: json(checkoutStateSchema) },
        400: error('An invalid body or malformed JSON', {
          unknownAction: {
            summary: 'Unknown action',
            value: { error: 'Invalid request body', issues: [{ path: ['action'], message: 'Invalid option: expected one of "retry"|"mark-resolved"' }] },
          },
        }),
        401: operator[401],
        403: operator[403],
        404: orderNotFound,
        409: error('The order is not FAILED_NEEDS_MANUAL, or its saga is stuck', {
          notWaiting: { summary: 'Nothing to resolve', value: { error: `Order ${ORDER_ID} is COMPLETED; only FAILED_NEEDS_MANUAL orders can be resolved` } },
          ...updateRefused[409],
        }),
        ...bodyErrors,
        429: tooManyRequests,
        503: {
          ...error(`The saga is recovering or did not answer within ${UPDATE_TIMEOUT_MS / 1000} s, or Temporal is out of reach`, {
            ...updateRefused[503],
            ...resolveNoAnswer,
          }),
          headers: retryAfter,
        },
      },
    },
  },
} satisfies ZodOpenApiPathsObject;

export const openApiDocument = createDocument({
  openapi: '3.1.0',
  info: {
    title: 'checkout-saga',
    version: '0.1.0',
    description: 'A checkout saga on Temporal. Every error, a 500 included, is JSON: `{error, issues?, saga?}`. Prices and totals are in cents.',
  },
  paths,
  components: {
    securitySchemes: {
      operatorToken: { type: 'http', scheme: 'bearer', description: 'OPERATOR_TOKEN' },
      orderSecret: { type: 'http', scheme: 'bearer', description: "The order's secret, from the 202 of POST /orders" },
    },
  },
});
