import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/**
 * One of the system's processes (the worker, the API), run as `tsx <script>`
 * with its output appended to a log file. The chaos run kills it, and it is
 * brought back the way a process supervisor would: if it dies, it restarts.
 */
export class ManagedProcess {
  private proc?: ChildProcess;
  private exited?: Promise<void>;
  private stopping = false;
  private readonly log: WriteStream;
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
    private readonly restartDelayMs = 500,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  start(): void {
    // Its own process group, so SIGKILL takes the node process tsx runs too.
    const proc = spawn(TSX, [this.script], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    proc.stdout!.pipe(this.log, { end: false });
    proc.stderr!.pipe(this.log, { end: false });
    this.proc = proc;
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.log.write(`\n[chaos] ${this.name} exited (${signal ?? `code ${code}`})\n`);
        resolve();
        // Whatever killed it, a supervisor brings it back.
        if (!this.stopping) setTimeout(() => !this.stopping && this.restart(), this.restartDelayMs);
      }),
    );
  }

  private restart(): void {
    this.restarts++;
    this.start();
  }

  /** Started, and not stopped for good (a killed one is brought back, so it still counts). */
  get running(): boolean {
    return this.proc !== undefined && !this.stopping;
  }

  /** The crash: no drain, no goodbye. If it is down already, the next incarnation gets it. */
  async kill(): Promise<void> {
    const proc = await this.alive();
    process.kill(-proc.pid!, 'SIGKILL');
    await this.exited;
  }

  /** A deploy: SIGTERM, let it drain, start again. */
  async restartGracefully(): Promise<void> {
    const proc = await this.alive();
    proc.kill('SIGTERM');
    await this.exited;
  }

  private async alive(): Promise<ChildProcess> {
    for (;;) {
      const proc = this.proc;
      if (proc?.pid && proc.exitCode === null && proc.signalCode === null) return proc;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const proc = this.proc;
    if (proc?.pid && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.pid && process.kill(-proc.pid, 'SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.log.end();
  }
}
