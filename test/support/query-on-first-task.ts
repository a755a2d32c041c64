import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { sleep } from '../../lib/backoff';
import { checkout, statusQuery } from '../../workflows';
import type { CheckoutInput } from '../../workflows/checkout-types';
import type { TestStack } from './test-stack';

/**
 * Starts a checkout while no worker polls its task queue, and queries it: the
 * server holds the query and hands it to the worker with the first workflow
 * task, as it does under load when tasks wait in the queue. Start a worker
 * next, then await `answered`.
 */
export async function startWithQueryOnFirstTask(
  stack: Pick<TestStack, 'client' | 'taskQueue'>,
  input: CheckoutInput,
): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId<typeof checkout>; answered: Promise<unknown> }> {
  const handle = await stack.client.workflow.start(checkout, { workflowId: `order-${input.orderId}`, taskQueue: stack.taskQueue, args: [input] });
  const answered = handle.query(statusQuery);
  await sleep(500); // for the query to reach the server
  return { handle, answered };
}
