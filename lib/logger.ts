// One structured JSON logger for every process (worker, API, scripts), and the
// adapter that sends the Temporal Runtime's logs (core, worker, workflow and
// activity logs) through it, so all of them share one format and one level.
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * LOG_LEVEL wins; otherwise tests print warnings only (a suite runs hundreds of
 * sagas, and their INFO lines would bury the failures) and everything else INFO.
 */
export function defaultLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL ?? (env.JEST_WORKER_ID ? 'warn' : 'info');
}

export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: defaultLogLevel(),
    // Names a log aggregator can filter on without parsing the message.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  };
  return pino(opts, destination ?? stdoutAndStderr());
}

/**
 * Errors go to stderr, everything else to stdout: whoever keeps only stderr
 * (a supervisor, a test that spawns the API) still learns why a process died.
 * Synchronous, so the line of a fatal error is out before process.exit().
 */
function stdoutAndStderr(): DestinationStream {
  return pino.multistream(
    [
      { level: 'trace', stream: pino.destination({ dest: 1, sync: true }) },
      { level: 'error', stream: pino.destination({ dest: 2, sync: true }) },
    ],
    { dedupe: true },
  );
}

/** The process's logger. Modules take a child of it with their own bindings. */
export const logger = createLogger();

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

const TEMPORAL_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

/** The Temporal level at or above which `target` prints anything. */
export function temporalLevelOf(target: Logger): LogLevel {
  return TEMPORAL_LEVEL[target.level] ?? 'ERROR';
}

/**
 * Writes one Temporal log entry as a pino line. The SDK puts its context in
 * `meta` (workflowId, runId, activityType, attempt, ...); pino makes those
 * top-level fields. The entry's own time is kept: workflow logs go through a
 * sink and can reach us a little after they were emitted.
 */
export function writeTemporalEntry(target: Logger, entry: LogEntry): void {
  const level = PINO_LEVEL[entry.level];
  if (!target.isLevelEnabled(level)) return;
  const { sdkComponent, error, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  // Under `err`, pino's error serializer keeps the message and stack, which are not enumerable.
  const err = error === undefined ? {} : { err: error };
  target[level]({ ...meta, ...err, component: sdkComponent ?? 'temporal', temporalTime: at }, entry.message);
}

/**
 * A Temporal Logger for `Runtime.install({ logger })`. DefaultLogger does the
 * level filtering and turns every call into a LogEntry; we only choose where
 * entries go. `onEntry` sees each entry at or above `level` before it is
 * written (tests keep them to inspect what a real worker logged).
 */
export function temporalLogger(target: Logger = logger, opts: { level?: LogLevel; onEntry?: (entry: LogEntry) => void } = {}): DefaultLogger {
  return new DefaultLogger(opts.level ?? temporalLevelOf(target), (entry) => {
    opts.onEntry?.(entry);
    writeTemporalEntry(target, entry);
  });
}
