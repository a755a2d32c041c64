// The Temporal server's static config, as scripts/temporal-server.ts writes it.
// Pure, so it is unit-tested (test/unit/scripts/temporal-server-config.test.ts).

/** The four services of a Temporal cluster; here all in one process, each on its own ports as in a real deployment. */
export const SERVER_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ServerService = (typeof SERVER_SERVICES)[number];

/** gRPC and membership (ringpop) port per service, plus the frontend's HTTP API. */
export type ServerPorts = Record<ServerService, { grpc: number; membership: number }> & { frontendHttp: number };

export type ServerConfigOptions = {
  ports: ServerPorts;
  /** PostgreSQL host and port, and a role allowed to use both databases. */
  db: { host: string; port: number; user: string; password: string };
  persistenceDb: string;
  visibilityDb: string;
  /**
   * Fixed for the life of the persistence database: the server refuses to
   * start on a database created with another count.
   */
  numHistoryShards: number;
  dynamicConfigFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
};

/**
 * The server records each service's membership port in a SMALLINT column
 * (cluster_membership.rpc_port) and dies on one above this; the kernel's
 * ephemeral ports are all above it.
 */
export const MAX_MEMBERSHIP_PORT = 32767;

/** Default for new clusters: several shards, so history work is spread as it would be over several hosts. */
export const DEFAULT_HISTORY_SHARDS = 4;

/**
 * The config as an object; JSON is valid YAML, so it is written as JSON and
 * nothing needs YAML quoting. Left out on purpose: metrics (no Prometheus
 * listener to collide with the app's ports) and archival.
 */
export function serverConfig(o: ServerConfigOptions): Record<string, unknown> {
  for (const s of SERVER_SERVICES) {
    if (o.ports[s].membership > MAX_MEMBERSHIP_PORT)
      throw new Error(`the ${s} service's membership port ${o.ports[s].membership} is above ${MAX_MEMBERSHIP_PORT}, which the server cannot record`);
  }
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${o.db.host}:${o.db.port}`,
      connectProtocol: 'tcp',
      user: o.db.user,
      password: o.db.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services = Object.fromEntries(
    SERVER_SERVICES.map((s) => [
      s,
      {
        rpc: {
          grpcPort: o.ports[s].grpc,
          membershipPort: o.ports[s].membership,
          bindOnLocalHost: true,
          ...(s === 'frontend' && { httpPort: o.ports.frontendHttp }),
        },
      },
    ]),
  );
  const frontendAddress = `127.0.0.1:${o.ports.frontend.grpc}`;
  return {
    log: { stdout: true, level: o.logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: o.numHistoryShards,
      datastores: {
        // The sizes of the server's sample config (config/development-postgres12.yaml).
        'postgres-default': datastore(o.persistenceDb, 20),
        'postgres-visibility': datastore(o.visibilityDb, 2),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      // 0: no pprof listener.
      pprof: { port: 0 },
    },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontendAddress } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: o.dynamicConfigFile, pollInterval: '10s' },
  };
}

/** The file the server reads (`--config <dir> --env development` loads `<dir>/development.yaml`). */
export function renderServerConfig(o: ServerConfigOptions): string {
  return `${JSON.stringify(serverConfig(o), null, 2)}\n`;
}
