import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers log every state change at INFO; in tests only warnings matter.
Runtime.install({ logger: new DefaultLogger('WARN') });
