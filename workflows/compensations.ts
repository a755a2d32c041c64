import { CancellationScope } from '@temporalio/workflow';

type Compensation<K> = { key: K; undo: () => Promise<unknown> };

/**
 * The saga's compensation stack. A step's compensation is pushed before the
 * step runs: if the step times out after the service committed, the outcome is
 * unknown, and only an idempotent undo that runs anyway is safe.
 */
export class Compensations<K extends string> {
  private readonly stack: Compensation<K>[] = [];

  add(key: K, undo: () => Promise<unknown>): void {
    this.stack.push({ key, undo });
  }

  /**
   * Runs every compensation, last in first out, in a scope that cancellation
   * cannot interrupt: a cancelled saga must still be rolled back. One failed
   * undo does not stop the others; the failures are returned.
   */
  async runAll(hooks: { before?(key: K): void; after?(key: K, error?: unknown): void } = {}): Promise<{ key: K; error: unknown }[]> {
    return CancellationScope.nonCancellable(async () => {
      const failed: { key: K; error: unknown }[] = [];
      for (const { key, undo } of [...this.stack].reverse()) {
        hooks.before?.(key);
        try {
          await undo();
          hooks.after?.(key);
        } catch (error) {
          failed.push({ key, error });
          hooks.after?.(key, error);
        }
      }
      this.stack.length = 0;
      return failed;
    });
  }
}
