// Imported by the API, the worker and workflow code (so nothing here may touch
// Node APIs): every saga's workflow id is derived from its order id, which is
// how logs, metrics and traces name the order without being handed it.

export const workflowIdFor = (orderId: string) => `order-${orderId}`;

export function orderIdOfWorkflow(workflowId: string | undefined): string | undefined {
  return workflowId?.startsWith('order-') ? workflowId.slice('order-'.length) : undefined;
}
