import { patched } from '@temporalio/workflow';

/** The patch that introduced the fraud check before payment. */
export const FRAUD_CHECK_PATCH = 'fraud-check';
/** The patch that made the saga's own short steps local activities. */
export const LOCAL_STEPS_PATCH = 'local-steps';
/** The patch that moved every patched() decision to the workflow's first activation. */
export const VERSIONS_FIRST_PATCH = 'versions-first';
/** The patch that marks the order record while the saga waits for an operator. */
export const ORDER_AWAITS_OPERATOR_PATCH = 'order-awaits-operator';
/** The patch that undoes every step when a step finds the saga already compensated. */
export const UNDO_ALL_WHEN_FENCED_PATCH = 'undo-all-when-fenced';
/** The patch that lets our own (local) steps finish when the saga is stopped, instead of cancelling them. */
export const OWN_STEPS_FINISH_PATCH = 'own-steps-finish';
/** The patch that registers the undo of our own steps before the first of them runs. */
export const OWN_UNDOS_FIRST_PATCH = 'own-undos-first';
/** The patch that lets a stop (TTL or cancel) take effect only at a step boundary: a shipment whose result came with it stands. */
export const STOP_AT_STEP_BOUNDARY_PATCH = 'stop-at-step-boundary';

/**
 * Every patched() decision of the saga, taken in its first activation, before
 * the first await. That is the rule for any future patch too: add it here.
 *
 * Why: Temporal tells the workflow which patches a history holds one workflow
 * task at a time, and a local activity's result can reach the workflow code one
 * task after the task that recorded its marker (when the task also answered a
 * query). On replay the result then arrives a task early, and a patched() call
 * right after it does not yet see the patch marker of the task it ran in:
 * it answers false where it answered true, and the saga is stuck on a
 * nondeterminism error. In the first activation no local activity has run yet,
 * so the answers are the same in every replay. See docs/stuck-sagas.md.
 */
export function decideVersions() {
  const first = patched(VERSIONS_FIRST_PATCH);
  const localSteps = patched(LOCAL_STEPS_PATCH);
  // Sagas started before VERSIONS_FIRST asked about the fraud check after
  // createOrder, and must replay that way. Once none of them is left:
  // deprecatePatch(VERSIONS_FIRST_PATCH), then remove the late branch.
  const fraudCheck = first ? patched(FRAUD_CHECK_PATCH) : undefined;
  const orderAwaitsOperator = patched(ORDER_AWAITS_OPERATOR_PATCH);
  const undoAllWhenFenced = patched(UNDO_ALL_WHEN_FENCED_PATCH);
  const ownStepsFinish = patched(OWN_STEPS_FINISH_PATCH);
  const ownUndosFirst = patched(OWN_UNDOS_FIRST_PATCH);
  const stopAtStepBoundary = patched(STOP_AT_STEP_BOUNDARY_PATCH);
  return {
    localSteps,
    fraudCheck: () => fraudCheck ?? patched(FRAUD_CHECK_PATCH),
    orderAwaitsOperator,
    undoAllWhenFenced,
    ownStepsFinish,
    ownUndosFirst,
    stopAtStepBoundary,
  };
}

export type Versions = ReturnType<typeof decideVersions>;
