// What the dev server does by itself at start (`--namespace`,
// `--search-attribute`), done by hand for a real Temporal server: the
// namespace and the app's custom search attributes, then a wait until they
// can be used.
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { encodeSearchAttributeIndexedValueType, type SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { randomUUID } from 'node:crypto';
import type { Log } from './go-install';

/** gRPC status code. */
const ALREADY_EXISTS = 6;

/** A week: room to look at a test or bench run's histories afterwards. */
const RETENTION = '7 days';

/**
 * Every service caches namespaces and refreshes them this often (dynamic
 * config system.namespaceCacheRefreshInterval, whose default we keep). A
 * search attribute added to a namespace is known to the history service only
 * after its next refresh: a workflow upserting it earlier fails its task.
 */
const NAMESPACE_CACHE_REFRESH_MS = 10_000;

export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  searchAttributes: SearchAttributeKey<SearchAttributeType>[],
  log: Log,
): Promise<void> {
  const ws = connection.workflowService;
  try {
    await ws.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) });
    log(`registered namespace ${namespace}`);
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === ALREADY_EXISTS)) throw err;
  }

  const { customAttributes } = await retrying(() => connection.operatorService.listSearchAttributes({ namespace }));
  const missing = searchAttributes.filter((k) => !customAttributes?.[k.name]);
  if (missing.length === 0) return;
  await retrying(() =>
    connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
    }),
  );
  log(`added search attributes ${missing.map((k) => k.name).join(', ')}; waiting for every service to see them`);
  const added = Date.now();
  await retrying(() => probe(connection, namespace, missing));
  await new Promise((r) => setTimeout(r, Math.max(0, NAMESPACE_CACHE_REFRESH_MS - (Date.now() - added))));
}

/** A workflow start carrying the attributes succeeds once the frontend knows them; nobody runs it. */
async function probe(connection: Connection, namespace: string, keys: SearchAttributeKey<SearchAttributeType>[]): Promise<void> {
  const client = new Client({ connection, namespace });
  const handle = await client.workflow.start('probe', {
    taskQueue: 'temporal-server-probe',
    workflowId: `probe-${randomUUID()}`,
    typedSearchAttributes: keys.map((key) => ({ key, value: 'probe' }) as never),
  });
  await handle.terminate('readiness probe');
}

/** Right after start the namespace may not be in every cache yet, nor every history shard owned. */
async function retrying<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
