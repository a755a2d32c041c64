// OpenTelemetry tracing: one trace from the HTTP request through the workflow
// start, the workflow run and its activities down to each SQL statement.
//
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands in an
// exporter): then no tracer provider is registered and every span the
// instrumentations and interceptors start is a no-op.
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';

export type Tracing = {
  resource: Resource;
  spanProcessor: SpanProcessor;
  instrumentations: Instrumentation[];
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
};

/**
 * Registers the global tracer provider and the auto-instrumentations (HTTP,
 * Express, Prisma). Call it before `express` and `http` are first required, so
 * the instrumentations' require hooks see them: first thing in an entry point.
 */
/** Whether the environment sends traces somewhere: what makes startTracing() start them. */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export function startTracing(opts: { serviceName: string; exporter?: SpanExporter; env?: NodeJS.ProcessEnv }): Tracing | undefined {
  const env = opts.env ?? process.env;
  if (!opts.exporter && !tracingConfigured(env)) return undefined;
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? opts.serviceName });
  // The OTLP exporter reads the endpoint, headers and timeout from the standard OTEL_EXPORTER_OTLP_* variables.
  // A test's exporter sees each span as it ends; a collector gets them in batches.
  const spanProcessor = opts.exporter ? new SimpleSpanProcessor(opts.exporter) : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Also installs the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  const instrumentations: Instrumentation[] = [
    // Health checks and scrapes would be most of the traces, and say nothing.
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url === '/metrics' }),
    new ExpressInstrumentation(),
    // Prisma 7 traces its queries itself (prisma:client:operation, and prisma:client:db_query
    // with the SQL text); this only hands it the tracer provider.
    new PrismaInstrumentation(),
  ];
  const unregister = registerInstrumentations({ tracerProvider: provider, instrumentations });
  return {
    resource,
    spanProcessor,
    instrumentations,
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
    },
  };
}

/** For the Temporal Client (the API's, and the worker's if activities used one): StartWorkflow spans, context in headers. */
export function clientInterceptors() {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * Activity spans, continuing the workflow's trace from the headers; and the
 * trace and span ids on every activity log line.
 */
export const traceActivities: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/**
 * The sink that workflow spans leave the sandbox through. Workflow code always
 * has the tracing interceptors compiled in, so the sink is always registered:
 * without tracing it drops the spans.
 */
export function workflowTraceSinks(tracing: Tracing | undefined): InjectedSinks<OpenTelemetrySinks> {
  if (!tracing) return { exporter: { export: { fn: () => undefined } } };
  // The interceptors package speaks OpenTelemetry SDK 1.x; our SDK is 2.x. Both share @opentelemetry/api.
  return { exporter: makeWorkflowExporter(asV1Processor(tracing.spanProcessor) as never, tracing.resource as never) };
}

/**
 * Workflow spans are rebuilt outside the sandbox in the SDK 1.x shape, whose
 * parent is `parentSpanId` and scope `instrumentationLibrary`; SDK 2.x
 * exporters read `parentSpanContext` and `instrumentationScope`, and without
 * them the workflow spans would arrive as roots of their own.
 */
function asV1Processor(processor: SpanProcessor) {
  return {
    onStart: () => undefined,
    onEnd(span: ReadableSpan & { parentSpanId?: string; instrumentationLibrary?: ReadableSpan['instrumentationScope'] }) {
      const context = span.spanContext();
      const upgraded: ReadableSpan = {
        ...span,
        spanContext: () => context,
        parentSpanContext:
          span.parentSpanContext ??
          (span.parentSpanId ? { traceId: context.traceId, spanId: span.parentSpanId, traceFlags: context.traceFlags, isRemote: false } : undefined),
        instrumentationScope: span.instrumentationScope ?? span.instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
      };
      processor.onEnd(upgraded);
    },
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}
