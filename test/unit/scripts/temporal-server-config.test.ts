import { renderServerConfig, SERVER_SERVICES, serverConfig, type ServerConfigOptions } from '../../../scripts/temporal-server-config';

const options: ServerConfigOptions = {
  ports: {
    frontend: { grpc: 7233, membership: 6933 },
    history: { grpc: 7234, membership: 6934 },
    matching: { grpc: 7235, membership: 6935 },
    worker: { grpc: 7239, membership: 6939 },
    frontendHttp: 7243,
  },
  db: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' },
  persistenceDb: 'temporal_x',
  visibilityDb: 'temporal_visibility_x',
  numHistoryShards: 4,
  dynamicConfigFile: '/repo/deploy/temporal-dynamic-config.yaml',
  logLevel: 'warn',
};

type Config = {
  persistence: {
    numHistoryShards: number;
    defaultStore: string;
    visibilityStore: string;
    datastores: Record<string, { sql: { pluginName: string; databaseName: string; connectAddr: string } }>;
  };
  services: Record<string, { rpc: { grpcPort: number; membershipPort: number; httpPort?: number } }>;
  clusterMetadata: { currentClusterName: string; clusterInformation: Record<string, { rpcAddress: string }> };
  dynamicConfigClient: { filepath: string };
};

describe('the Temporal server config', () => {
  const config = serverConfig(options) as Config;

  it('keeps history and visibility in their own PostgreSQL databases, over several shards', () => {
    const { persistence } = config;
    expect(persistence.numHistoryShards).toBe(4);
    expect(persistence.datastores[persistence.defaultStore]!.sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'temporal_x',
      connectAddr: '127.0.0.1:5432',
    });
    expect(persistence.datastores[persistence.visibilityStore]!.sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal_visibility_x' });
  });

  it('runs the four services, each on its own ports', () => {
    expect(Object.keys(config.services).sort()).toEqual([...SERVER_SERVICES].sort());
    const ports = Object.values(config.services).flatMap(({ rpc }) => [rpc.grpcPort, rpc.membershipPort, ...(rpc.httpPort ? [rpc.httpPort] : [])]);
    expect(new Set(ports).size).toBe(9);
  });

  it('points the cluster at its own frontend and at the dynamic config file', () => {
    const self = config.clusterMetadata.clusterInformation[config.clusterMetadata.currentClusterName]!;
    expect(self.rpcAddress).toBe('127.0.0.1:7233');
    expect(config.dynamicConfigClient.filepath).toBe(options.dynamicConfigFile);
  });

  it('refuses a membership port the server could not record in its SMALLINT column', () => {
    const ports = { ...options.ports, history: { grpc: 40000, membership: 40001 } };
    expect(() => serverConfig({ ...options, ports })).toThrow(/membership port 40001/);
    expect(() => serverConfig({ ...options, ports: { ...ports, history: { grpc: 40000, membership: 32767 } } })).not.toThrow();
  });

  it('is written as JSON, which the server reads as YAML', () => {
    expect(JSON.parse(renderServerConfig(options))).toEqual(config);
  });
});
