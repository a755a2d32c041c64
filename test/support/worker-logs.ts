import type { LogEntry } from '@temporalio/worker';

// On the test file's global object, because the setup file that installs the
// Runtime and the test file may each load their own copy of this module.
const store = globalThis as { __workerLogs?: LogEntry[] };

export function keepWorkerLog(entry: LogEntry): void {
  (store.__workerLogs ??= []).push(entry);
}

/** What the Temporal Runtime's logger (workers, workflows, activities) was given in this test file, INFO and up. */
export function workerLogs(): readonly LogEntry[] {
  return store.__workerLogs ?? [];
}
