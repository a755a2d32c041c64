import { ConfigError } from '../../../lib/config';
import { workerMetricsPorts } from '../../../lib/worker-ports';

// N worker processes on one host each need two metrics ports of their own,
// known in advance (a scrape config names them).
const DEFAULTS = { apiPort: 9463, workerPort: 9464, temporalCorePort: 9465 };

describe('workerMetricsPorts', () => {
  it('gives one process the configured ports', () => {
    expect(workerMetricsPorts(DEFAULTS, 1)).toEqual([{ workerPort: 9464, temporalCorePort: 9465 }]);
  });

  it('gives each further process the next pair after the defaults', () => {
    expect(workerMetricsPorts(DEFAULTS, 3)).toEqual([
      { workerPort: 9464, temporalCorePort: 9465 },
      { workerPort: 9466, temporalCorePort: 9467 },
      { workerPort: 9468, temporalCorePort: 9469 },
    ]);
  });

  it('keeps 0 for every process: any free port for the app metrics, off for the core', () => {
    expect(workerMetricsPorts({ apiPort: 0, workerPort: 0, temporalCorePort: 0 }, 2)).toEqual([
      { workerPort: 0, temporalCorePort: 0 },
      { workerPort: 0, temporalCorePort: 0 },
    ]);
  });

  it('never hands out one port twice, for any bases and count it accepts', () => {
    for (let workerPort = 9000; workerPort < 9010; workerPort++) {
      for (let temporalCorePort = 9000; temporalCorePort < 9010; temporalCorePort++) {
        for (let n = 1; n <= 4; n++) {
          let ports;
          try {
            ports = workerMetricsPorts({ apiPort: 8999, workerPort, temporalCorePort }, n);
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            continue;
          }
          const all = ports.flatMap((p) => [p.workerPort, p.temporalCorePort]).concat(8999);
          expect(new Set(all).size).toBe(all.length);
        }
      }
    }
  });

  it('refuses bases whose series would meet, naming the variables', () => {
    // 9464, 9466 for the app metrics; 9466 for the second core exporter too.
    expect(() => workerMetricsPorts({ ...DEFAULTS, temporalCorePort: 9466 }, 2)).toThrow(
      /worker 2 \(WORKER_METRICS_PORT \+ 2\) and worker 1 \(TEMPORAL_METRICS_PORT\) would both serve metrics on port 9466/,
    );
    expect(() => workerMetricsPorts({ ...DEFAULTS, temporalCorePort: 9466 }, 1)).not.toThrow();
  });

  it('refuses a worker port that is the API metrics port', () => {
    expect(() => workerMetricsPorts({ ...DEFAULTS, apiPort: 9466 }, 2)).toThrow(/the API \(API_METRICS_PORT\)/);
  });

  it('refuses ports past 65535', () => {
    expect(() => workerMetricsPorts({ apiPort: 0, workerPort: 65_534, temporalCorePort: 0 }, 2)).toThrow(/port 65536, above 65535/);
  });
});
