// The API entry point's first import: the HTTP and Express instrumentations
// hook `require`, so they must be in place before anything loads express.
import { startTracing } from '../lib/tracing';

export const tracing = startTracing({ serviceName: 'checkout-api' });
