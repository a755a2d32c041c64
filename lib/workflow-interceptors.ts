// Workflow interceptors run inside the workflow sandbox, so they are compiled
// into the workflow bundle. Whoever bundles (the worker at start, or the tests'
// global setup that bundles once for every worker) must pass this list.
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [require.resolve('../workflows/log-interceptors')];
