import { isStuck, STUCK_AFTER_ATTEMPTS, STUCK_AFTER_TIMEOUTS } from '../../../lib/workflow-task-health';

describe('a saga whose workflow task is being retried', () => {
  it('is stuck at once when its history cannot be replayed', () => {
    expect(isStuck(2, 'non_deterministic_error')).toBe(true);
  });

  it('is stuck from the third attempt when the worker keeps failing the task', () => {
    expect(isStuck(STUCK_AFTER_ATTEMPTS - 1, 'workflow_worker_unhandled_failure')).toBe(false);
    expect(isStuck(STUCK_AFTER_ATTEMPTS, 'workflow_worker_unhandled_failure')).toBe(true);
  });

  it('gets longer when only timeouts were recorded: killed workers and restarted servers, which the next attempt survives', () => {
    expect(isStuck(3, 'timed_out')).toBe(false);
    expect(isStuck(STUCK_AFTER_TIMEOUTS - 1, 'timed_out')).toBe(false);
    expect(isStuck(STUCK_AFTER_TIMEOUTS, 'timed_out')).toBe(true);
  });
});
