import { Runtime } from '@temporalio/worker';
import { logger, temporalLogger } from '../../lib/logger';
import { keepWorkerLog } from './worker-logs';

// The same path as the worker (Temporal's logs through lib/logger.ts's pino),
// whose level in tests is WARN unless LOG_LEVEL says otherwise. Entries from
// INFO up are kept all the same, so a test can check what a real worker would
// have logged (see test/security/no-card-numbers.test.ts).
Runtime.install({ logger: temporalLogger(logger, { level: 'INFO', onEntry: keepWorkerLog }) });
