// Workflow interceptor module (registered in the worker's workflow bundle):
// every `log` call from workflow code already carries workflowId, runId and
// workflowType; this adds the order id, so one field finds an order's lines
// across the API, the workflow and its activities.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import { orderIdOfWorkflow } from './workflow-id';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        const orderId = orderIdOfWorkflow(workflowInfo().workflowId);
        return next(orderId ? { orderId, ...input } : input);
      },
    },
  ],
});
