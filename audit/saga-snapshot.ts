import type { Client } from '@temporalio/client';
import { eachLimit } from '../lib/each-limit';
import { workflowTaskTrouble } from '../lib/workflow-task-health';
import { ORDER_STATUS } from '../workflows/search-attributes';
import { orderIdOfWorkflow } from '../workflows/workflow-id';
import type { SagaView } from './invariants';

/** Describes at a time: enough to read a thousand sagas in seconds without crowding the server. */
const CONCURRENCY = 8;

/**
 * The running sagas of a task queue, by order id: their status (the OrderStatus
 * search attribute) and, when their workflow task keeps failing, why. Closed
 * sagas are left out: they cannot be stuck, and their orders say how they ended.
 */
export async function readSagas(client: Client, taskQueue: string): Promise<Map<string, SagaView>> {
  const running: { orderId: string; workflowId: string; runId: string; status: string | null }[] = [];
  const query = `WorkflowType = "checkout" AND ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}"`;
  for await (const wf of client.workflow.list({ query })) {
    const orderId = orderIdOfWorkflow(wf.workflowId);
    if (orderId) running.push({ orderId, workflowId: wf.workflowId, runId: wf.runId, status: wf.typedSearchAttributes.get(ORDER_STATUS) ?? null });
  }
  const sagas = new Map<string, SagaView>();
  await eachLimit(running, CONCURRENCY, async ({ orderId, workflowId, runId, status }) => {
    const trouble = await workflowTaskTrouble(client, { workflowId, runId });
    sagas.set(orderId, { status, stuck: trouble?.stuck ? trouble : null });
  });
  return sagas;
}
