// Starts a private nats-server with JetStream, for tests and for `npm start`
// on a machine where no NATS answers. The binary comes from Debian's
// nats-server package (or NATS_SERVER_BIN); nothing is downloaded.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stopProcess } from './child-process';
import { findOnPath, isExecutableFile } from './temporal-cli';

export type NatsServer = { url: string; pid: number; stop(): Promise<void> };

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary: NATS_SERVER_BIN, else the first on PATH or in the usual places; undefined if none. */
export function findNatsServer(): string | undefined {
  return process.env.NATS_SERVER_BIN || findOnPath('nats-server') || CANDIDATES.find(isExecutableFile);
}

/**
 * Starts nats-server -js on 127.0.0.1, storing streams under `storeDir`.
 * Port 0 picks a free port: the server reports the one it bound in a ports
 * file, so there is no window in which another process could take it.
 */
export async function startNatsServer(opts: { storeDir: string; port?: number; logFile?: string; timeoutMs?: number }): Promise<NatsServer> {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)');
  const portsDir = path.join(opts.storeDir, 'ports');
  mkdirSync(portsDir, { recursive: true });
  const args = ['-a', '127.0.0.1', '-p', String(opts.port || -1), '-js', '-sd', opts.storeDir, '--ports_file_dir', portsDir];
  if (opts.logFile) args.push('-l', opts.logFile);
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let spawnError: Error | undefined;
  proc.on('error', (err) => (spawnError = err));
  proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));

  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const portsFile = () => path.join(portsDir, `nats-server_${proc.pid}.ports`);
  while (!existsSync(portsFile()) || !readFileSync(portsFile(), 'utf8').trim()) {
    if (spawnError || proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not start (${bin} ${args.join(' ')}): ${spawnError?.message ?? stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url: string = JSON.parse(readFileSync(portsFile(), 'utf8')).nats[0];
  return { url, pid: proc.pid!, stop: () => stopProcess(proc, 5000) };
}

/** What answers at `url`: a NATS with JetStream, one without, or nothing. */
export async function probeNats(url: string): Promise<'jetstream' | 'no-jetstream' | 'unreachable'> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 2000, maxReconnectAttempts: 0 });
  } catch {
    return 'unreachable';
  }
  try {
    await jetstreamManager(nc, { timeout: 2000 });
    return 'jetstream';
  } catch {
    return 'no-jetstream';
  } finally {
    await nc.close();
  }
}
