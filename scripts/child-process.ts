// Stopping a child process we spawned.
import type { ChildProcess } from 'node:child_process';

/**
 * SIGTERM, then SIGKILL if it has not exited after graceMs; resolves once it
 * has exited, at once if it already had.
 */
export function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
