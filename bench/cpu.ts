// CPU time of processes, from /proc: utime + stime of /proc/<pid>/stat, in ms.
import { readdirSync, readFileSync, statSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB, from /proc/<pid>/status (VmRSS, in kB). */
export function procRssMiB(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** RSS in MiB of this process and of the watched ones, by the names cpuBetween gives them. */
export function rssMiB(watched: Watched): Record<string, number> {
  const out: Record<string, number> = { 'node (driver+worker)': Math.round(process.memoryUsage().rss / 2 ** 20) };
  for (const [name, pid] of Object.entries(watched)) {
    const rss = pid === undefined ? undefined : procRssMiB(pid);
    if (rss !== undefined) out[name] = rss;
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Pids whose command line contains every string of `parts`. */
export function findPids(parts: string[]): number[] {
  return pids().filter((pid) => pid !== process.pid && parts.every((p) => cmdline(pid).includes(p)));
}

let postgresUid: number | undefined;
function pgUid(): number | undefined {
  if (postgresUid !== undefined) return postgresUid;
  for (const pid of pids()) {
    if (cmdline(pid).startsWith('/usr/lib/postgresql/')) {
      postgresUid = statSync(`/proc/${pid}`).uid;
      return postgresUid;
    }
  }
  return undefined;
}

/** CPU ms per pid of every process the postgres user owns (the server, its background workers, every backend). */
export function postgresProcs(): Map<number, { cpu: number; cmd: string }> {
  const uid = pgUid();
  const out = new Map<number, { cpu: number; cmd: string }>();
  if (uid === undefined) return out;
  for (const pid of pids()) {
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) continue;
    } catch {
      continue;
    }
    const cpu = procCpuMs(pid);
    if (cpu !== undefined) out.set(pid, { cpu, cmd: cmdline(pid) });
  }
  return out;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3]! + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export type CpuSnapshot = {
  at: number;
  self: number;
  procs: Map<string, number>;
  pg: Map<number, { cpu: number; cmd: string }>;
  machine: { busy: number; total: number };
};

/** Named external processes to watch, by pid. */
export type Watched = Record<string, number | undefined>;

export function snapshot(watched: Watched): CpuSnapshot {
  const u = process.cpuUsage();
  const procs = new Map<string, number>();
  for (const [name, pid] of Object.entries(watched)) {
    if (pid === undefined) continue;
    const cpu = procCpuMs(pid);
    if (cpu !== undefined) procs.set(name, cpu);
  }
  return { at: Date.now(), self: (u.user + u.system) / 1000, procs, pg: postgresProcs(), machine: machineCpu() };
}

export type CpuReport = {
  /** CPU ms used during the window, per process. */
  ms: Record<string, number>;
  /** The same in cores (ms per wall ms). */
  cores: Record<string, number>;
  /** Share of the whole machine (all cores, everyone's processes) that was busy. */
  machineBusy: number;
};

/**
 * CPU used between two snapshots: this node process, the watched processes,
 * the postgres backends serving our database(s) (matched by name in their
 * command line), and all of postgres (which includes other people's work on
 * this shared machine).
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, dbNames: string[]): CpuReport {
  const wall = b.at - a.at;
  const ms: Record<string, number> = { 'node (driver+worker)': b.self - a.self };
  for (const [name, cpu] of b.procs) ms[name] = cpu - (a.procs.get(name) ?? cpu);
  let ours = 0;
  let all = 0;
  for (const [pid, { cpu, cmd }] of b.pg) {
    const before = a.pg.get(pid)?.cpu ?? 0; // a backend born in the window started at 0
    all += cpu - before;
    if (dbNames.some((n) => cmd.includes(` ${n} `))) ours += cpu - before;
  }
  ms['postgres (our backends)'] = ours;
  ms['postgres (all)'] = all;
  const cores = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v / wall, 2)]));
  const machineBusy = round((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total), 2);
  return { ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])), cores, machineBusy };
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
