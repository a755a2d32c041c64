// `npm run bench`: the checkout benchmark defined in bench/README.md, on a
// fresh stack (its own Temporal dev server and database).
//
//   npm run bench                          in-process, Temporal 5-step (plain and tuned), full checkout via the API, orchestrated and choreographed; C = 1, 10, 50
//   npm run bench -- --peers               the same, plus DBOS Transact and Restate on the 5-step workload
//   npm run bench -- --levers              also measures each Temporal lever on the 5-step workload
//   npm run bench -- --seconds 5 --warmup 2 --levels 10,50
//
// Flags for the Temporal runs: --local-activities --eager --pool N (Prisma pool,
// like DB_POOL_SIZE) --db-filename (persist the dev server to SQLite)
// --sqlite-pragma K=V --max-wft N --max-act N --wft-polls N --act-polls N
// --wf-cache N --systems a,b,c --lever-levels 50 --out FILE --keep-db
// --profile: the same run under V8's CPU profiler, summarised per measured window
// --server postgres: the Temporal rows on the production-topology server (scripts/temporal-server.ts)
// --record: also write the figures to bench/results/latest.{md,json}, to be committed
// --memory [--memory-workflows N]: also the worker's memory per cached workflow (memory.ts)
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Breakdown } from './breakdown';
import { runProfiled, summarizeProfiles } from './profile';
import { runLevel, type LevelResult } from './load';
import { dbosTarget } from './peers/dbos';
import { restateTarget } from './peers/restate';
import {
  BENCH_SERVER_KINDS,
  ROOT,
  createBenchDatabase,
  dropDatabase,
  startBenchServer,
  urlFor,
  type BenchDevServer,
  type BenchServerKind,
  type DevServerSettings,
} from './stack';
import { measureMemory, type MemoryResult } from './memory';
import { inProcessTarget, temporalTarget, type Target, type TemporalOptions, type WorkerTuning } from './targets';
import { choreographyTarget } from './choreography';
import { Client } from 'pg';
import { WORKFLOW_INTERCEPTOR_MODULES, workflowInterceptorModules } from '../worker';

type Args = {
  seconds: number;
  warmup: number;
  levels: number[];
  systems: string[];
  peers: boolean;
  levers: boolean;
  leverLevels: number[];
  localActivities: boolean;
  eager: boolean;
  pool: number;
  dbFilename: boolean;
  sqlitePragmas: string[];
  tuning: WorkerTuning;
  leverOnly?: string[];
  out?: string;
  keepDb: boolean;
  profile: boolean;
  record: boolean;
  /** Sagas to hold in the worker's cache for the memory measurement; 0: not measured. */
  memoryWorkflows: number;
  server: BenchServerKind;
};

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 20,
    warmup: 5,
    levels: [1, 10, 50],
    systems: ['inprocess', 'temporal', 'temporal-tuned', 'temporal-floor', 'api', 'choreography'],
    peers: false,
    levers: false,
    leverLevels: [50],
    localActivities: false,
    eager: false,
    pool: 10,
    dbFilename: false,
    sqlitePragmas: [],
    tuning: {},
    keepDb: false,
    profile: false,
    record: false,
    memoryWorkflows: 0,
    server: 'dev',
  };
  const nums = (v: string) => v.split(',').map(Number);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--seconds':
        a.seconds = Number(val());
        break;
      case '--warmup':
        a.warmup = Number(val());
        break;
      case '--levels':
        a.levels = nums(val());
        break;
      case '--systems':
        a.systems = val().split(',');
        break;
      case '--peers':
        a.peers = true;
        break;
      case '--levers':
        a.levers = true;
        break;
      case '--lever-levels':
        a.leverLevels = nums(val());
        break;
      case '--local-activities':
        a.localActivities = true;
        break;
      case '--eager':
        a.eager = true;
        break;
      case '--pool':
        a.pool = Number(val());
        break;
      case '--db-filename':
        a.dbFilename = true;
        break;
      case '--sqlite-pragma':
        a.sqlitePragmas.push(val());
        break;
      case '--max-wft':
        a.tuning.maxConcurrentWorkflowTaskExecutions = Number(val());
        break;
      case '--max-act':
        a.tuning.maxConcurrentActivityTaskExecutions = Number(val());
        break;
      case '--wft-polls':
        a.tuning.maxConcurrentWorkflowTaskPolls = Number(val());
        break;
      case '--act-polls':
        a.tuning.maxConcurrentActivityTaskPolls = Number(val());
        break;
      case '--wf-cache':
        a.tuning.maxCachedWorkflows = Number(val());
        break;
      case '--lever-only':
        a.leverOnly = val().split(';');
        break;
      case '--out':
        a.out = val();
        break;
      case '--keep-db':
        a.keepDb = true;
        break;
      case '--profile':
        a.profile = true;
        break;
      case '--record':
        a.record = true;
        break;
      case '--memory':
        a.memoryWorkflows ||= 1000;
        break;
      case '--memory-workflows':
        a.memoryWorkflows = Number(val());
        break;
      case '--server':
        a.server = val() as BenchServerKind;
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  if (a.peers) a.systems = [...new Set([...a.systems, 'dbos', 'restate'])];
  if (!BENCH_SERVER_KINDS.includes(a.server)) throw new Error(`--server ${a.server}: expected ${BENCH_SERVER_KINDS.join(' or ')}`);
  return a;
}

/** One configuration of the Temporal 5-step run, for the levers. */
type Variant = {
  name: string;
  localActivities: boolean;
  eager: boolean;
  pool: number;
  dev: DevServerSettings & { persist?: boolean };
  tuning: WorkerTuning;
  updateWithStart?: boolean;
  /** The full checkout (POST /orders) instead of the 5-step workload. */
  mode?: '5step' | 'api';
  /** For the full checkout: the workflow interceptor modules bundled (the deployed worker's by default), payload encryption. */
  workflowInterceptors?: string[];
  codec?: boolean;
};

type Row = { system: string; variant?: string; level: LevelResult; vsInProcess?: number; breakdown?: Breakdown };

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.profile && !process.env.BENCH_PROFILE_DIR) return profiled(args);
  Runtime.install({ logger: new DefaultLogger(process.env.BENCH_LOG_LEVEL === 'WARN' ? 'WARN' : 'ERROR') });
  const tag = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_').toLowerCase();
  const dbName = `checkout_bench_${tag}`;
  const dataDir = path.join(ROOT, '.data', 'bench');
  mkdirSync(dataDir, { recursive: true });
  const outFile = args.out ?? path.join(dataDir, `${tag}.json`);
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

  const machine = machineFacts();
  log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, load average ${machine.loadavgAtStart.join(' ')}`);
  log(`database ${dbName}: migrating and seeding`);
  const dbUrl = await createBenchDatabase(dbName);
  const dbNames = [dbName, `${dbName}_dbos`];

  const needsTemporal = args.systems.some((s) => s.startsWith('temporal') || s === 'api') || args.levers || args.memoryWorkflows > 0;
  const servers = new Map<string, BenchDevServer>();
  const serverFor = async (dev: DevServerSettings & { persist?: boolean }) => {
    // One production-topology server serves every variant: the SQLite settings and the levers' A/B are the dev server's.
    const key =
      args.server === 'postgres' ? 'postgres' : JSON.stringify({ persist: !!dev.persist, pragmas: dev.sqlitePragmas ?? [], without: dev.withoutLevers ?? [] });
    let s = servers.get(key);
    if (!s) {
      const dbFilename = dev.persist ? path.join(dataDir, `${tag}-temporal-${servers.size}.db`) : undefined;
      if (args.server === 'postgres') log('starting the production-topology Temporal server (PostgreSQL, 4 history shards)');
      else
        log(
          `starting a Temporal dev server (${dbFilename ? `SQLite file ${path.relative(ROOT, dbFilename)}` : 'in memory'}${dev.sqlitePragmas?.length ? `, pragmas ${dev.sqlitePragmas.join(' ')}` : ''}${dev.withoutLevers?.length ? `, without ${dev.withoutLevers.join(', ')}` : ''})`,
        );
      s = await startBenchServer(args.server, { dbFilename, sqlitePragmas: dev.sqlitePragmas, withoutLevers: dev.withoutLevers });
      servers.set(key, s);
    }
    return s;
  };
  const bundle = needsTemporal
    ? { code: (await bundleWorkflowCode({ workflowsPath: require.resolve('./temporal-workflows'), logger: quietLogger })).code }
    : undefined;
  // The full checkout runs on the worker as deployed: the application's workflows with the workflow interceptors
  // worker.ts bundles (or fewer, for a lever), and a payload key when a lever encrypts.
  const deployedBundles = new Map<string, Promise<{ code: string }>>();
  const deployed = async (v: Pick<Variant, 'workflowInterceptors' | 'codec'> = {}): Promise<TemporalOptions['deployed']> => {
    // As worker.ts bundles them with tracing off, unless the variant says otherwise.
    const modules = v.workflowInterceptors ?? workflowInterceptorModules(false);
    const key = modules.join();
    if (!deployedBundles.has(key)) {
      deployedBundles.set(
        key,
        bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: modules, logger: quietLogger }).then((b) => ({
          code: b.code,
        })),
      );
    }
    return { bundle: await deployedBundles.get(key)!, payloadKey: v.codec ? randomBytes(32).toString('base64') : undefined };
  };

  const base: Variant = { name: 'baseline', localActivities: false, eager: false, pool: 10, dev: {}, tuning: {} };
  const leverVariants: Variant[] = !args.levers
    ? []
    : (
        [
          base,
          { ...base, name: 'local activities', localActivities: true },
          { ...base, name: 'eager start', eager: true },
          { ...base, name: 'pool 20', pool: 20 },
          { ...base, name: 'pool 5', pool: 5 },
          { ...base, name: 'pollers 2/2', tuning: { maxConcurrentWorkflowTaskPolls: 2, maxConcurrentActivityTaskPolls: 2 } },
          {
            ...base,
            name: 'wft slots 100, polls 20/20',
            tuning: { maxConcurrentWorkflowTaskExecutions: 100, maxConcurrentWorkflowTaskPolls: 20, maxConcurrentActivityTaskPolls: 20 },
          },
          { ...base, name: 'dev server on SQLite file', dev: { persist: true } },
          { ...base, name: 'SQLite file, WAL, synchronous=OFF', dev: { persist: true, sqlitePragmas: ['journal_mode=WAL', 'synchronous=OFF'] } },
          { ...base, name: 'local + eager', localActivities: true, eager: true },
          // The start call returns once the order exists, not once the run exists: measured as the start latency.
          { ...base, name: 'update-with-start', updateWithStart: true },
          // The server's settings (scripts/temporal-settings.ts), each left at the server's default while the rest stay on.
          { ...base, name: 'server: history queue reads at default', dev: { withoutLevers: ['history queue reads'] } },
          { ...base, name: 'server: eager activity dispatch off', dev: { withoutLevers: ['eager activity dispatch'] } },
          { ...base, name: 'server: both at default', dev: { withoutLevers: ['history queue reads', 'eager activity dispatch'] } },
          {
            ...base,
            name: 'local + eager, server: history queue reads at default',
            localActivities: true,
            eager: true,
            dev: { withoutLevers: ['history queue reads'] },
          },
          { ...base, name: 'full checkout', mode: 'api' },
          { ...base, name: 'full checkout, payload codec', mode: 'api', codec: true },
          {
            ...base,
            name: 'full checkout, OTel workflow interceptors (as bundled before, tracing off)',
            mode: 'api',
            workflowInterceptors: WORKFLOW_INTERCEPTOR_MODULES,
          },
          { ...base, name: 'full checkout, no workflow interceptors', mode: 'api', workflowInterceptors: [] },
          { ...base, name: 'full checkout, server: history queue reads at default', mode: 'api', dev: { withoutLevers: ['history queue reads'] } },
        ] satisfies Variant[]
      ).filter((v) => !args.leverOnly || args.leverOnly.includes(v.name));

  const rows: Row[] = [];
  const failures: Record<string, string> = {};
  const inProcessAt = new Map<number, number>();
  let prefixN = 0;
  let orderN = 0;
  const nextN = () => orderN++;
  // Progress: a line per row with the time left, from the rows measured so far (startups included).
  const plannedRows =
    args.levels.length * (1 + args.systems.filter((x) => x !== 'inprocess').length) + (args.levers ? args.leverLevels.length * (1 + leverVariants.length) : 0);
  const startedAt = Date.now();
  const progress = () => {
    const left = ((Date.now() - startedAt) / rows.length) * (plannedRows - rows.length);
    return `[${rows.length}/${plannedRows}, about ${Math.ceil(left / 60_000)} min left]`;
  };

  // The machine is shared and noisy: measure level by level, every system in
  // turn at each level, so each ratio compares runs taken close together.
  const measureOne = async (system: string, variant: string | undefined, concurrency: number, target: Target) => {
    const level = await runLevel({
      concurrency,
      warmupSeconds: args.warmup,
      seconds: args.seconds,
      runOne: target.runOne,
      nextN,
      watched: () => target.watched(),
      dbNames,
    });
    if (system === 'in-process') inProcessAt.set(concurrency, level.perSecond);
    const base = inProcessAt.get(concurrency);
    const breakdown = await target.explain?.().catch(() => undefined);
    const row: Row = { system, variant, level, vsInProcess: base ? Math.round((level.perSecond / base) * 100) / 100 : undefined, breakdown };
    rows.push(row);
    log(`${progress()} ${line(row)}`);
  };
  const prefix = () => `${tag.replace('_', '')}x${prefixN++}`;

  const mainVariant: Variant = {
    name: describeVariant(args),
    localActivities: args.localActivities,
    eager: args.eager,
    pool: args.pool,
    dev: { persist: args.dbFilename, sqlitePragmas: args.sqlitePragmas },
    tuning: args.tuning,
  };
  // The main Temporal runs: same server, database, pool and worker tuning; each system sets what it varies.
  const mainTemporal = (overrides: Pick<TemporalOptions, 'localActivities' | 'eager' | 'mode' | 'noopSteps'>) => async () =>
    temporalTarget({
      server: await serverFor(mainVariant.dev),
      dbUrl,
      pool: mainVariant.pool,
      prefix: prefix(),
      bundle,
      tuning: mainVariant.tuning,
      ...overrides,
      deployed: overrides.mode === 'api' ? await deployed() : undefined,
    });
  // A system `perTurn` is started afresh for each of its turns and stopped after it, rather than kept up: what it runs
  // in the background (a relay's polls of the database, consumers, a nats-server) would otherwise weigh on the others' rows.
  const systems: { name: string; variant?: string; make: () => Promise<Target>; perTurn?: boolean }[] = [
    { name: 'in-process', make: () => inProcessTarget({ dbUrl, pool: args.pool, prefix: prefix() }) },
  ];
  for (const system of args.systems) {
    if (system === 'inprocess') continue;
    if (system === 'temporal-tuned') {
      // The levers that measurably helped (bench/README.md, "Levers"): same workload, same worker, same server.
      systems.push({
        name: 'Temporal 5-step, tuned',
        variant: `local activities, eager start, pool ${args.pool}`,
        make: mainTemporal({ localActivities: true, eager: true, mode: '5step' }),
      });
    } else if (system === 'temporal-floor') {
      // The tuned run with steps that do nothing: what Temporal alone costs here, the ceiling for any service.
      systems.push({
        name: 'Temporal 5-step, no-op steps (engine floor)',
        variant: `local activities, eager start`,
        make: mainTemporal({ localActivities: true, eager: true, mode: '5step', noopSteps: true }),
      });
    } else if (system === 'temporal' || system === 'api') {
      const name = system === 'temporal' ? 'Temporal 5-step' : 'Temporal full checkout (POST /orders)';
      systems.push({
        name,
        // The full checkout is the production workflow as it is: its own steps local, provider and carrier remote.
        variant: system === 'temporal' ? mainVariant.name : `as deployed, API and worker separate, pool ${mainVariant.pool}`,
        make: mainTemporal({ localActivities: mainVariant.localActivities, eager: mainVariant.eager, mode: system === 'temporal' ? '5step' : 'api' }),
      });
    } else if (system === 'choreography') {
      systems.push({
        name: 'choreographed full checkout (POST /orders)',
        // The same API and POST as the `api` row; the services react to each other's events, no workflow.
        variant: `API separate, reactions in the bench process, nats-server, pool ${mainVariant.pool}`,
        make: async () => choreographyTarget({ server: await serverFor(mainVariant.dev), dbUrl, pool: mainVariant.pool, dataDir }),
        perTurn: true,
      });
    } else if (system === 'dbos') {
      systems.push({ name: 'DBOS Transact 5-step', make: () => dbosTarget({ dbUrl, sysDbUrl: urlFor(`${dbName}_dbos`), pool: args.pool, prefix: prefix() }) });
    } else if (system === 'restate') {
      systems.push({ name: 'Restate 5-step', make: () => restateTarget({ dbUrl, pool: args.pool, prefix: prefix(), dataDir }) });
    } else {
      throw new Error(`unknown system ${system}`);
    }
  }
  // Targets stay up for the whole run (idle between their turns); a peer that
  // cannot start is reported and skipped, the rest goes on.
  const live = new Map<string, Target | Error>();
  try {
    for (const concurrency of args.levels) {
      for (const s of systems) {
        if (!live.has(s.name)) {
          log(`starting ${s.name}`);
          live.set(s.name, await s.make().catch((err: Error) => err));
        }
        const t = live.get(s.name)!;
        if (t instanceof Error) {
          if (concurrency === args.levels[0]) log(`${s.name} could not start: ${t.message}`);
          failures[s.name] = t.message;
          continue;
        }
        await measureOne(s.name, s.variant, concurrency, t);
        if (s.perTurn) {
          live.delete(s.name);
          await t.stop().catch((err) => log(`stopping: ${err}`));
        }
      }
    }
  } finally {
    for (const t of live.values()) if (!(t instanceof Error)) await t.stop().catch((err) => log(`stopping: ${err}`));
  }

  if (args.levers) {
    for (const concurrency of args.leverLevels) {
      const inProcess = await inProcessTarget({ dbUrl, pool: args.pool, prefix: prefix() });
      await measureOne('in-process', 'lever baseline', concurrency, inProcess).finally(() => inProcess.stop());
      for (const v of leverVariants) {
        const t = await temporalTarget({
          server: await serverFor(v.dev),
          dbUrl,
          pool: v.pool,
          prefix: prefix(),
          bundle,
          localActivities: v.localActivities,
          eager: v.eager,
          tuning: v.tuning,
          mode: v.mode ?? '5step',
          updateWithStart: v.updateWithStart,
          deployed: v.mode === 'api' ? await deployed(v) : undefined,
        });
        await measureOne(v.mode === 'api' ? 'Temporal full checkout (lever)' : 'Temporal 5-step (lever)', v.name, concurrency, t).finally(() => t.stop());
      }
    }
  }

  let memory: MemoryResult | undefined;
  if (args.memoryWorkflows > 0) {
    // A cache big enough to hold them all, so that what is measured is the cache, not evictions.
    const t = await temporalTarget({
      server: await serverFor({}),
      dbUrl,
      pool: args.pool,
      prefix: prefix(),
      bundle,
      localActivities: false,
      eager: false,
      tuning: { maxCachedWorkflows: args.memoryWorkflows + 200 },
      mode: 'api',
      deployed: await deployed(),
    });
    // The rows measured so far are worth keeping whatever happens here.
    memory = await measureMemory(t, args.memoryWorkflows, log)
      .catch((err: Error) => {
        failures['memory'] = err.message;
        return undefined;
      })
      .finally(() => t.stop());
  }

  const check = await outcomeCounts(dbUrl);
  for (const s of servers.values()) await s.teardown();
  // The dev servers' SQLite files (lever runs) are scratch, like the database.
  for (const f of readdirSync(dataDir)) if (f.startsWith(`${tag}-temporal-`)) rmSync(path.join(dataDir, f), { force: true });
  if (!args.keepDb) await dropDatabase(dbName);
  await dropDatabase(`${dbName}_dbos`).catch(() => undefined);

  const result = {
    startedAt: tag,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    commit: commitOf(ROOT),
    machine: { ...machine, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    settings: { ...args, mainVariant: mainVariant.name },
    ordersByStatusInDatabase: check,
    systemsThatFailedToStart: failures,
    rows,
    memory,
  };
  writeFileSync(outFile, JSON.stringify(result, null, 2));
  const facts = [
    `machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}, kernel ${machine.kernel}; load average at start ${machine.loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`,
    ...Object.entries(failures).map(([name, msg]) => `NOT MEASURED: ${name}: ${msg}`),
    `orders in the database by status: ${JSON.stringify(check)}`,
    ...(memory
      ? [
          `memory: ${memory.cachedAfter - memory.cachedBefore} more checkouts in the worker's cache took its RSS from ${memory.workerRssMiB.before} to ${memory.workerRssMiB.after} MiB: ${memory.workerMiBPerCachedWorkflow} MiB per cached workflow` +
            (memory.devServerRssMiB
              ? `; the dev server ${memory.devServerRssMiB.before} → ${memory.devServerRssMiB.after} MiB (${memory.devServerMiBPerOpenWorkflow} MiB per open workflow)`
              : ''),
        ]
      : []),
  ];
  console.log(table(rows));
  console.log(breakdownTable(rows));
  console.log(`\n${facts.join('\n')}`);
  console.log(`figures: ${path.relative(process.cwd(), outFile)}`);
  if (args.record) {
    // The record is committed: the figures bench/README.md quotes, with when, where and from what code.
    const dir = path.join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const heading = `# Latest bench figures\n\n\`${result.command}\` at ${isoMinute(tag)} UTC, commit \`${result.commit}\`, ${args.warmup} s warm-up and ${args.seconds} s measured per row.`;
    writeFileSync(path.join(dir, 'latest.md'), `${heading}\n\n${facts.map((f) => `- ${f}`).join('\n')}\n\n${table(rows)}\n${breakdownTable(rows)}\n`);
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`recorded: ${path.relative(process.cwd(), path.join(dir, 'latest.md'))} and latest.json`);
  }
}

/** The checked-out commit, marked when the work tree has changes the figures may owe something to (an earlier record aside). */
function commitOf(dir: string): string {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' }).trim();
  try {
    return (
      git('rev-parse', '--short', 'HEAD') +
      (git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results') ? ' (with uncommitted changes)' : '')
    );
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** 20261125_200439 -> 2026-11-25 20:04 */
const isoMinute = (tag: string) => tag.replace(/^(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d).*/, '$1-$2-$3 $4:$5');

/** The same run under the CPU profiler, then where each JS thread's time went in each measured window. */
async function profiled(args: Args): Promise<void> {
  const dir = path.join(ROOT, '.data', 'bench', `profile-${Date.now()}`);
  const out = args.out ?? path.join(dir, 'figures.json');
  await runProfiled([...process.argv.slice(2), '--out', out], dir);
  const figures = JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] };
  const windows = figures.rows.map((r) => ({
    label: `${r.system}${r.variant ? ` [${r.variant}]` : ''} C=${r.level.concurrency} (${r.level.perSecond}/s)`,
    windowUs: r.level.windowUs,
  }));
  console.log(`\nCPU profile of the bench process, per measured window (profiles in ${path.relative(process.cwd(), dir)}):`);
  console.log(summarizeProfiles(dir, windows));
}

function describeVariant(a: Args): string {
  const parts = [
    a.localActivities ? 'local activities' : 'activities',
    a.eager ? 'eager start' : null,
    `pool ${a.pool}`,
    a.server === 'postgres' ? 'Temporal server on PostgreSQL' : a.dbFilename ? 'SQLite file' : 'in-memory',
    ...a.sqlitePragmas,
  ];
  for (const [k, v] of Object.entries(a.tuning)) parts.push(`${k}=${v}`);
  return parts.filter(Boolean).join(', ');
}

function machineFacts() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function outcomeCounts(url: string): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ status: string; n: string }>(
      'SELECT status::text AS status, count(*) AS n FROM orders.orders GROUP BY status ORDER BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  } finally {
    await c.end();
  }
}

const CPU_COLS = ['node (driver+worker)', 'temporal dev server', 'api (node)', 'restate-server', 'nats-server', 'postgres (our backends)'];

function line({ system, variant, level: l, vsInProcess }: Row): string {
  return `${system}${variant ? ` [${variant}]` : ''} C=${l.concurrency}: ${l.perSecond}/s p50 ${l.latencyMs.p50} p99 ${l.latencyMs.p99} ms, vs in-process ${vsInProcess ?? '-'}, errors ${l.errors}${l.eagerlyStarted ? `, eagerly started ${l.eagerlyStarted}` : ''}${l.firstError ? ` (${l.firstError})` : ''}, ${JSON.stringify(l.statuses)}`;
}

function table(rows: Row[]): string {
  const head = [
    'system',
    'C',
    'sagas/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'vs in-process',
    'start call p50/p99 ms',
    'CPU cores: node / temporal / api / restate / nats / pg ours (pg all)',
    'CPU ms/saga (all listed)',
    'RSS MiB: node / temporal / api / nats',
    'machine busy',
    'errors',
  ];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const { system, variant, level: l, vsInProcess } of rows) {
    const cores = CPU_COLS.map((k) => (l.cpu.cores[k] !== undefined ? String(l.cpu.cores[k]) : '-')).join(' / ') + ` (${l.cpu.cores['postgres (all)']})`;
    const perSaga = CPU_COLS.reduce((sum, k) => sum + (l.cpuMsPerSaga[k] ?? 0), 0);
    out.push(
      `| ${[
        system + (variant ? ` [${variant}]` : ''),
        l.concurrency,
        l.perSecond,
        l.latencyMs.p50,
        l.latencyMs.p95,
        l.latencyMs.p99,
        vsInProcess ?? '-',
        l.postLatencyMs ? `${l.postLatencyMs.p50} / ${l.postLatencyMs.p99}` : '-',
        cores,
        Math.round(perSaga * 10) / 10,
        ['node (driver+worker)', 'temporal dev server', 'api (node)', 'nats-server'].map((k) => l.rssMiB?.[k] ?? '-').join(' / '),
        `${Math.round(l.cpu.machineBusy * 100)}%`,
        l.errors,
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

function breakdownTable(rows: Row[]): string {
  const withB = rows.filter((r) => r.breakdown);
  if (!withB.length) return '';
  const head = [
    'system',
    'C',
    'saga ms (history)',
    'workflow tasks',
    'WFT queue ms',
    'WFT run ms',
    'activities',
    'activity queue ms',
    'activity run ms',
    'other ms',
  ];
  const out = [
    '',
    "Where a Temporal saga's milliseconds go (mean of the last sagas of each level, from their histories):",
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const r of withB) {
    const b = r.breakdown!;
    out.push(
      `| ${[r.system + (r.variant ? ` [${r.variant}]` : ''), r.level.concurrency, b.totalMs, b.workflowTasks, b.workflowTaskQueueMs, b.workflowTaskRunMs, b.activities || b.localActivityMarkers + ' local', b.activityQueueMs, b.activityRunMs, b.otherMs].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => process.stderr.write(`[bundler] ${m}\n`),
  error: (m: string) => process.stderr.write(`[bundler] ${m}\n`),
};

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
