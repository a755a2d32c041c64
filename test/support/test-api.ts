import type { AddressInfo } from 'node:net';
import { NativeConnection } from '@temporalio/worker';
import { createApp, type ApiDeps } from '../../api/app';
import { CheckoutClient } from '../../api/checkout-client';
import { ChoreographyClient } from '../../api/choreography-client';
import { makeCurrentOnceKnown, type BuildRef } from '../../lib/worker-deployment';
import { DEFAULT_DEADLINES } from '../../workflows/checkout-types';
import { OrderSecrets } from '../../api/order-secrets';
import { createCheckoutWorker } from '../../worker';
import type { TestStack } from './test-stack';

export type TestApi = {
  /** e.g. http://127.0.0.1:54321, with no trailing slash. */
  base: string;
  port: number;
  /** The headers that let a customer read, watch and cancel this order: its secret. */
  asOwner(orderId: string): { authorization: string };
  close(): void;
};

/** A POST to the test API, with a JSON body when one is given. */
export const post = (api: TestApi, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${api.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** The key the test API derives order secrets from, unless a test passes another. */
export const TEST_ORDER_SECRET_KEY = 'test-order-secret-key';

/**
 * The API over a test stack, listening on a free port. By default it starts
 * sagas on the stack's task queue, answers /healthz without checking anything,
 * and takes the token 'test-operator-token'; `overrides` replaces any of that.
 */
export function startTestApi(stack: TestStack, overrides: Partial<ApiDeps> = {}, { port = 0 }: { port?: number } = {}): TestApi {
  const app = createApp({
    checkouts: new CheckoutClient(stack.client, stack.taskQueue),
    choreographies: new ChoreographyClient(stack.services, DEFAULT_DEADLINES),
    services: stack.services,
    temporal: { namespace: 'default', uiUrl: 'http://127.0.0.1:8233' },
    operatorToken: 'test-operator-token',
    orderSecretKey: TEST_ORDER_SECRET_KEY,
    // Far above what a file sends: the limit has its own test, and must not make the others flaky.
    rateLimitPerMinute: 100_000,
    ping: async () => undefined,
    ...overrides,
  });
  const server = app.listen(port);
  const secrets = new OrderSecrets(overrides.orderSecretKey ?? TEST_ORDER_SECRET_KEY);
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    asOwner: (orderId) => ({ authorization: `Bearer ${secrets.secretFor(orderId)}` }),
    // Event streams never end by themselves: they are cut, as a stopping API process would.
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * The API over a task queue of its own, which only a versioned worker polls:
 * `build` of its deployment (Worker Versioning), made the deployment's
 * current build once the server knows it, so that the sagas this API starts
 * run on it, pinned. Give each test run a deployment name of its own.
 */
export async function startVersionedApi(stack: TestStack, build: BuildRef, overrides: Partial<ApiDeps> = {}): Promise<{ api: TestApi; stop(): Promise<void> }> {
  const taskQueue = `${stack.taskQueue}-${build.buildId}`;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await createCheckoutWorker({
    connection,
    namespace: 'default',
    taskQueue,
    db: stack.db,
    services: stack.services,
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    deployment: build,
  });
  const running = worker.run();
  const stop = async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
  try {
    await makeCurrentOnceKnown(stack.client, build, { identity: 'test' });
  } catch (err) {
    await stop();
    throw err;
  }
  const api = startTestApi(stack, { checkouts: new CheckoutClient(stack.client, taskQueue), ...overrides });
  return {
    api,
    async stop() {
      api.close();
      await stop();
    },
  };
}
