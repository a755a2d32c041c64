import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { orderIdOfWorkflow } from '../workflows/workflow-id';

/**
 * Per activity execution: every log line (the SDK's own and `Context.log`)
 * names the order, the run and the step, under the same field names the
 * workflow's lines use (the SDK's are workflowRunId and activityType).
 */
export function observeActivity(ctx: Context): ActivityInterceptors {
  const { info } = ctx;
  // Every saga activity takes its order id but checkFraud; the workflow id names the order for all of them.
  let orderId = orderIdOfWorkflow(info.workflowExecution?.workflowId);
  return {
    inbound: {
      async execute(input, next) {
        const fromArgs = (input.args[0] as { orderId?: unknown } | undefined)?.orderId;
        if (typeof fromArgs === 'string') orderId = fromArgs;
        const started = performance.now();
        const result = await next(input);
        // The SDK logs failures itself (WARN), and successes only at DEBUG: one INFO line per step done.
        ctx.log.info('Activity succeeded', { durationMs: Math.round(performance.now() - started) });
        return result;
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        // The task token is a capability (whoever holds it can complete the activity): it stays out of logs.
        const { taskToken: _token, workflowRunId: _runId, activityType: _type, ...rest } = input;
        return next({
          ...rest,
          ...(orderId && { orderId }),
          runId: info.workflowExecution?.runId,
          activity: info.activityType,
          attempt: info.attempt,
        });
      },
    },
  };
}
