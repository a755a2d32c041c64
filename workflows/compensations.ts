import type { UndoStatus } from './checkout-types';

type Compensation<K> = { key: K; undo: () => Promise<unknown>; status: UndoStatus };
export type FailedUndo<K> = { key: K; error: unknown };

/**
 * The saga's compensation stack. A step's compensation is pushed before the
 * step runs: if the step times out after the service committed, the outcome is
 * unknown, and only an idempotent undo that runs anyway is safe.
 */
export class Compensations<K extends string> {
  private stack: Compensation<K>[] = [];
  /** Every compensation ever pushed, undone or not, for the status query. */
  private readonly pushed: Compensation<K>[] = [];

  add(key: K, undo: () => Promise<unknown>): void {
    const compensation: Compensation<K> = { key, undo, status: 'registered' };
    this.stack.push(compensation);
    this.pushed.push(compensation);
  }

  /** What was pushed, in that order, and how far each undo got. */
  view(): { key: K; status: UndoStatus }[] {
    return this.pushed.map(({ key, status }) => ({ key, status }));
  }

  /**
   * Runs the pending compensations, last in first out. One failed undo does
   * not stop the others. Failed undos stay on the stack, so calling this again
   * retries exactly those. The workflow runs it where cancellation cannot
   * interrupt it; this class needs no workflow, so a unit test can drive it.
   */
  async runAll(hooks: { before?(key: K): void; after?(key: K, error?: unknown): void } = {}): Promise<FailedUndo<K>[]> {
    const failed: { compensation: Compensation<K>; error: unknown }[] = [];
    for (const compensation of [...this.stack].reverse()) {
      hooks.before?.(compensation.key);
      compensation.status = 'undoing';
      try {
        await compensation.undo();
        compensation.status = 'undone';
        hooks.after?.(compensation.key);
      } catch (error) {
        compensation.status = 'failed';
        failed.push({ compensation, error });
        hooks.after?.(compensation.key, error);
      }
    }
    this.stack = failed.map(({ compensation }) => compensation).reverse();
    return failed.map(({ compensation, error }) => ({ key: compensation.key, error }));
  }
}
