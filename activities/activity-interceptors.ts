import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { WorkerMetrics } from '../lib/metrics';
import type { OrderOutcome } from '../services/order/order-service';
import type { StepName } from '../workflows/checkout-types';
import { orderIdOfWorkflow } from '../workflows/workflow-id';

/** The saga's compensating activities, and the forward step each one undoes. */
const UNDOES: Record<string, StepName> = {
  releaseInventory: 'reserveInventory',
  reversePayment: 'authorizePayment',
  cancelShipment: 'createShipment',
};

/**
 * Per activity execution: logs and metrics. Every log line (the SDK's own and
 * `Context.log`) names the order, the run and the step, under the field names
 * the workflow's lines use (the SDK's are workflowRunId and activityType).
 *
 * Saga outcomes and compensations are counted here, when the activity that
 * records them succeeds, rather than in workflow code, which replays: an
 * activity runs once per attempt, never on replay. An attempt whose result is
 * lost and retried is counted twice; the services make that rare.
 */
export function observeActivities(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const { info } = ctx;
    // Every saga activity takes its order id but checkFraud; the workflow id names the order for all of them.
    let orderId = orderIdOfWorkflow(info.workflowExecution?.workflowId);
    return {
      inbound: {
        async execute(input, next) {
          const args = input.args[0] as { orderId?: unknown; outcome?: OrderOutcome } | undefined;
          if (typeof args?.orderId === 'string') orderId = args.orderId;
          const activity = info.activityType;
          const started = performance.now();
          const elapsed = () => (performance.now() - started) / 1000;
          let result: unknown;
          try {
            result = await next(input);
          } catch (err) {
            metrics.stepDuration.observe({ activity, outcome: 'failure' }, elapsed());
            // Retryable failures come back as another attempt; only a refusal for good ends a compensation.
            const final = err instanceof ApplicationFailure && err.nonRetryable;
            if (final && UNDOES[activity]) metrics.compensations.inc({ step: UNDOES[activity], outcome: 'failed' });
            throw err;
          }
          const seconds = elapsed();
          metrics.stepDuration.observe({ activity, outcome: 'success' }, seconds);
          if (UNDOES[activity]) metrics.compensations.inc({ step: UNDOES[activity], outcome: 'succeeded' });
          if (activity === 'closeOrder' && args?.outcome) {
            const { status } = args.outcome;
            const reason = 'reason' in args.outcome ? args.outcome.reason : undefined;
            metrics.sagaOutcomes.inc({ status, reason: reason ?? 'none' });
            // Closing the order record is how a rolled-back saga undoes createOrder.
            if (status !== 'COMPLETED') metrics.compensations.inc({ step: 'createOrder', outcome: 'succeeded' });
          }
          // The SDK logs failures itself (WARN), and successes only at DEBUG: one INFO line per step done.
          ctx.log.info('Activity succeeded', { durationMs: Math.round(seconds * 1000) });
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
  };
}
