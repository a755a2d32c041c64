import type { TestStack } from './test-stack';

/** Workflows on the stack's task queue. Visibility lags a little behind starts, so read until it settles. */
export async function workflowsStarted(stack: Pick<TestStack, 'client' | 'taskQueue'>): Promise<number> {
  const count = async () => (await stack.client.workflow.count(`TaskQueue = "${stack.taskQueue}"`)).count;
  for (let last = await count(); ; ) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await count();
    if (now === last) return now;
    last = now;
  }
}
