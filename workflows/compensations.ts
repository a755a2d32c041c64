type Compensation<K> = { key: K; undo: () => Promise<unknown> };
export type FailedUndo<K> = { key: K; error: unknown };

/**
 * The saga's compensation stack. A step's compensation is pushed before the
 * step runs: if the step times out after the service committed, the outcome is
 * unknown, and only an idempotent undo that runs anyway is safe.
 */
export class Compensations<K extends string> {
  private stack: Compensation<K>[] = [];

  add(key: K, undo: () => Promise<unknown>): void {
    this.stack.push({ key, undo });
  }

  /**
   * Runs the pending compensations, last in first out. One failed undo does
   * not stop the others. Failed undos stay on the stack, so calling this again
   * retries exactly those. The workflow runs it where cancellation cannot
   * interrupt it; this class needs no workflow, so a unit test can drive it.
   */
  async runAll(hooks: { before?(key: K): void; after?(key: K, error?: unknown): void } = {}): Promise<FailedUndo<K>[]> {
    const failed: (Compensation<K> & { error: unknown })[] = [];
    for (const compensation of [...this.stack].reverse()) {
      hooks.before?.(compensation.key);
      try {
        await compensation.undo();
        hooks.after?.(compensation.key);
      } catch (error) {
        failed.push({ ...compensation, error });
        hooks.after?.(compensation.key, error);
      }
    }
    this.stack = [...failed].reverse().map(({ key, undo }) => ({ key, undo }));
    return failed.map(({ key, error }) => ({ key, error }));
  }
}
