import http from 'node:http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../../lib/tracing';

// Imported first by the tracing test, as api/start-tracing.ts is by the API.
export const spans = new InMemorySpanExporter();
export const tracing = startTracing({ serviceName: 'checkout-test', exporter: spans })!;

// Jest loads modules through a registry of its own, past the require hooks
// the instrumentations install, so here they patch nothing by themselves.
// Node's core modules are shared with Jest, though: the HTTP instrumentation's
// own patch is applied to `http` by hand, and taken off again afterwards (the
// Jest worker process runs other test files next). Express is Jest-loaded:
// its route spans only exist outside Jest.
const httpPatch = tracing.instrumentations
  .find((i): i is HttpInstrumentation => i instanceof HttpInstrumentation)!
  .getModuleDefinitions()
  .find((d) => d.name === 'http')!;
httpPatch.patch!(http);

export async function stopTracing(): Promise<void> {
  httpPatch.unpatch!(http);
  await tracing.shutdown();
}
