import { DefaultLogger, Runtime } from '@temporalio/worker';
import { keepWorkerLog } from './worker-logs';

// Workers log every state change at INFO; in tests only warnings are printed.
// Entries from INFO up are kept all the same, so a test can check what a real
// worker would have logged (see test/security/no-card-numbers.test.ts).
const printed = new DefaultLogger('WARN');
Runtime.install({
  logger: new DefaultLogger('INFO', (entry) => {
    keepWorkerLog(entry);
    printed.log(entry.level, entry.message, entry.meta);
  }),
});
