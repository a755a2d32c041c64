// Metrics ports for N worker processes on one host (`npm start` with
// WORKER_PROCESSES). Each process serves two: its application metrics and the
// Temporal SDK core's. They must be known in advance, as a Prometheus scrape
// config needs them, so "any free port" will not do; and the core's exporter
// has no "any" at all (0 turns it off).
import { ConfigError, type Config } from './config';

export type WorkerPorts = { workerPort: number; temporalCorePort: number };

/**
 * Process k's ports are the configured ones plus 2(k-1): the default pair is
 * adjacent (9464, 9465), so each process's pair follows the one before it
 * (9466, 9467 for the second) and the defaults never collide. 0 stays 0 for
 * every process: any free port for the application metrics, off for the core's.
 */
export const PORT_STRIDE = 2;

const MAX_PORT = 65_535;

/** The ports of processes 1..n, in order; a ConfigError, naming the variables, if two would share a port. */
export function workerMetricsPorts(metrics: Pick<Config['metrics'], 'apiPort' | 'workerPort' | 'temporalCorePort'>, processes: number): WorkerPorts[] {
  const shift = (base: number, i: number) => (base === 0 ? 0 : base + PORT_STRIDE * i);
  const ports = Array.from({ length: processes }, (_, i) => ({
    workerPort: shift(metrics.workerPort, i),
    temporalCorePort: shift(metrics.temporalCorePort, i),
  }));

  const owners = new Map<number, string>();
  if (metrics.apiPort > 0) owners.set(metrics.apiPort, 'the API (API_METRICS_PORT)');
  for (const [i, p] of ports.entries()) {
    for (const [port, variable] of [
      [p.workerPort, 'WORKER_METRICS_PORT'],
      [p.temporalCorePort, 'TEMPORAL_METRICS_PORT'],
    ] as const) {
      if (port === 0) continue;
      const owner = `worker ${i + 1} (${variable}${i > 0 ? ` + ${PORT_STRIDE * i}` : ''})`;
      if (port > MAX_PORT) throw new ConfigError(`${owner} would need port ${port}, above ${MAX_PORT}: lower ${variable} or WORKER_PROCESSES`);
      const taken = owners.get(port);
      if (taken) {
        throw new ConfigError(
          `${owner} and ${taken} would both serve metrics on port ${port}: worker k uses WORKER_METRICS_PORT and TEMPORAL_METRICS_PORT ` +
            `plus ${PORT_STRIDE}(k-1), so keep each an odd number apart from the others (as the defaults are), or at least ${PORT_STRIDE} x WORKER_PROCESSES apart, or 0`,
        );
      }
      owners.set(port, owner);
    }
  }
  return ports;
}
