// `npm run bench -- --profile`: the bench runs again under V8's CPU profiler
// (`node --cpu-prof`, one profile per JS thread: the load driver with the
// Temporal worker's main thread, and the workflow sandbox thread), then each
// profile is cut to the measured windows and summarised by where the time went.
// The Temporal dev server (Go) and PostgreSQL are not profiled; the bench's CPU
// columns give their share. Written by hand because the summaries of
// `--cpu-prof` files on npm are whole-run flame graphs, and we need the window.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

type ProfileNode = { id: number; callFrame: { functionName: string; url: string }; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
export type Window = { label: string; windowUs: [number, number] };

/** Runs this bench command again under the profiler; returns the directory of the profiles. */
export async function runProfiled(argv: string[], dir: string): Promise<void> {
  const args = [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${dir}`, process.argv[1]!, ...argv];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, BENCH_PROFILE_DIR: dir } });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`profiled bench exited with ${code}`);
}

/** A table per window: each JS thread's busy share of the window, and the top places its time went. */
export function summarizeProfiles(dir: string, windows: Window[], top = 8): string {
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ file: f, profile: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile }));
  const out: string[] = [];
  for (const w of windows) {
    out.push(`\n${w.label}`);
    for (const { file, profile } of profiles) {
      const spent = selfTimeIn(profile, w.windowUs);
      const wall = w.windowUs[1] - w.windowUs[0];
      const busy = [...spent].filter(([k]) => k !== '(idle)').reduce((s, [, v]) => s + v, 0);
      if (busy < 0.02 * wall) continue; // a thread that slept through the window
      const places = [...spent]
        .filter(([k]) => k !== '(idle)')
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => `${Math.round((v / busy) * 100)}% ${k}`);
      out.push(`  ${threadName(file, spent)}: busy ${Math.round((busy / wall) * 100)}% of the window; ${places.join(', ')}`);
    }
  }
  return out.join('\n');
}

/** Self time (µs) by place, for the samples inside the window. */
function selfTimeIn(p: CpuProfile, [from, to]: [number, number]): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const spent = new Map<string, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const key = placeOf(byId.get(p.samples[i]!)!);
    // A sample stands for the time since the previous one.
    spent.set(key, (spent.get(key) ?? 0) + p.timeDeltas[i]!);
  }
  return spent;
}

/** A package, a file of ours, a Node.js internal, or a native frame such as (garbage collector). */
function placeOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName.startsWith('RegExp:')) return 'regular expressions';
    return functionName.startsWith('(') ? functionName : `native ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('wasm://')) return 'wasm (Prisma query compiler)';
  if (url.includes('workflow-bundle')) return 'workflow bundle';
  if (url.startsWith('evalmachine')) return 'workflow sandbox glue';
  return path.relative(process.cwd(), url.replace(/^file:\/\//, ''));
}

function threadName(file: string, spent: Map<string, number>): string {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread.
  const thread = file.split('.')[4];
  if (thread === '0') return 'main thread (load driver, client, worker, activities)';
  if (spent.has('native runInContext') || spent.has('workflow bundle')) return 'workflow sandbox thread';
  return `thread ${thread}`;
}
