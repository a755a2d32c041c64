// The Temporal server settings (dynamic config) this application is tuned for.
// Every place that starts or ships a server takes them from here: the dev
// server of `npm start`, the tests, the bench and the chaos run
// (scripts/dev-server.ts), the production-topology server, and docker compose
// through deploy/temporal-dynamic-config.yaml, which a unit test keeps equal to
// this list. Each setting is a lever with an A/B in bench/README.md ("Levers").

export type DynamicConfig = Record<string, boolean | number | string>;

export const SERVER_LEVERS = {
  /**
   * The server hands an activity to the worker that scheduled it, in its answer
   * to the workflow task, instead of through the activity task queue. Off by
   * default in the open-source server.
   */
  'eager activity dispatch': { 'system.enableActivityEagerExecution': true },
  /**
   * A history shard reads each of its task queues (transfer: the next workflow
   * or activity task; timer; visibility) at most 20 times a second by default.
   * At low load that read, not the work, is what a task waits for between two
   * hops; the dev server has a single shard, so every saga shares those 20 reads.
   */
  'history queue reads': {
    'history.transferProcessorMaxPollRPS': 5000,
    'history.timerProcessorMaxPollRPS': 5000,
    'history.visibilityProcessorMaxPollRPS': 5000,
  },
} as const satisfies Record<string, DynamicConfig>;

export type ServerLever = keyof typeof SERVER_LEVERS;

/** Every lever's settings but those named (for an A/B in the bench). */
export function serverDynamicConfig(without: readonly ServerLever[] = []): DynamicConfig {
  return Object.assign(
    {},
    ...Object.entries(SERVER_LEVERS)
      .filter(([name]) => !without.includes(name as ServerLever))
      .map(([, values]) => values),
  );
}

/** The same as `--dynamic-config-value key=value` arguments of `temporal server start-dev`. */
export function devServerArgs(config: DynamicConfig): string[] {
  return Object.entries(config).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
}
