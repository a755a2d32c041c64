// Workflow interceptors run inside the workflow sandbox, so they are compiled
// into the workflow bundle. Whoever bundles (the worker at start, or the tests'
// global setup that bundles once for every worker) must pass this list.
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  require.resolve('../workflows/log-interceptors'),
  // Workflow run and schedule-activity spans; they leave the sandbox through the
  // `exporter` sink, which the worker must therefore always register (lib/tracing.ts).
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];
