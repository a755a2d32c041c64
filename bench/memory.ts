// The worker's memory per cached workflow: the figure maxCachedWorkflows is
// set from (docs/operations.md, "Configuration"). The real checkout, started
// through the real API, held open by the carrier scenario that never answers
// (postal code 00000) so that every saga stays in the worker's cache with a
// shipment being retried, which is the heaviest state a saga waits in.
import { sleep } from '../lib/backoff';
import { procRssMiB } from './cpu';
import type { Target } from './targets';
import { postOrderRequest } from './workload';

export type MemoryResult = {
  workflows: number;
  cachedBefore: number;
  cachedAfter: number;
  workerRssMiB: { before: number; after: number };
  devServerRssMiB?: { before: number; after: number };
  /** (RSS after − RSS before) / (cached after − cached before). */
  workerMiBPerCachedWorkflow: number;
  devServerMiBPerOpenWorkflow?: number;
};

const workerRss = () => process.memoryUsage().rss / 2 ** 20;

/** A steadier RSS than one reading: the median of a few over two seconds. */
async function settledRss(read: () => number | undefined): Promise<number | undefined> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const x = read();
    if (x !== undefined) xs.push(x);
    await sleep(400);
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

export async function measureMemory(target: Target, workflows: number, log: (m: string) => void): Promise<MemoryResult> {
  const m = target.memory;
  if (!m?.apiUrl) throw new Error('the memory measurement needs the full checkout target (mode api)');
  const serverPid = target.watched()['temporal dev server'];
  const serverRss = () => (serverPid === undefined ? undefined : procRssMiB(serverPid));
  // Warm: the bundle loaded, the pools open, a few sagas through every step.
  for (let n = 0; n < 20; n++) await target.runOne(1_000_000 + n);
  const cachedBefore = m.cachedWorkflows();
  const before = { worker: (await settledRss(workerRss))!, server: await settledRss(serverRss) };
  log(`memory: ${cachedBefore} cached, worker RSS ${Math.round(before.worker)} MiB; starting ${workflows} sagas that wait on the carrier`);

  const ids: string[] = [];
  const post = async () => {
    const res = await fetch(`${m.apiUrl}/orders`, postOrderRequest({ postalCode: '00000', country: 'GB' }));
    const body = (await res.json()) as { workflowId?: string };
    if (res.status !== 202 || !body.workflowId) throw new Error(`POST /orders answered ${res.status}`);
    ids.push(body.workflowId);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next++ < workflows) await post();
    }),
  );
  // Each saga enters the cache with its first task; wait until they all have.
  const deadline = Date.now() + 120_000;
  while (m.cachedWorkflows() < cachedBefore + workflows && Date.now() < deadline) await sleep(500);
  await sleep(3000);
  const cachedAfter = m.cachedWorkflows();
  const after = { worker: (await settledRss(workerRss))!, server: await settledRss(serverRss) };
  log(`memory: ${cachedAfter} cached, worker RSS ${Math.round(after.worker)} MiB`);
  // The bench database and server are scratch, but the carrier retries would load the rest of the run.
  await Promise.all(
    ids.map((id) =>
      m.client.workflow
        .getHandle(id)
        .terminate('bench memory measurement done')
        .catch(() => undefined),
    ),
  );

  const per = (a: number, b: number, n: number) => Math.round(((b - a) / Math.max(1, n)) * 1000) / 1000;
  return {
    workflows,
    cachedBefore,
    cachedAfter,
    workerRssMiB: { before: Math.round(before.worker), after: Math.round(after.worker) },
    ...(before.server !== undefined && after.server !== undefined && { devServerRssMiB: { before: before.server, after: after.server } }),
    workerMiBPerCachedWorkflow: per(before.worker, after.worker, cachedAfter - cachedBefore),
    ...(before.server !== undefined && after.server !== undefined && { devServerMiBPerOpenWorkflow: per(before.server, after.server, workflows) }),
  };
}
