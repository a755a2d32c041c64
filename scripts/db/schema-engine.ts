// Prisma's schema engine, compiled to WebAssembly (@prisma/schema-engine-wasm),
// used to diff a live database against prisma/schema.prisma without the native
// engine binary that the Prisma CLI would have to download.
//
// It reaches the database through @prisma/adapter-pg, which has bugs on this path
// (7.10):
//  - Postgres' internal "char" type (pg_class.relkind, pg_constraint.contype, ...),
//    which the engine's introspection queries return, is not mapped; see below.
//  - Its shadow database support is broken: a shadow database given as a connection
//    string connects to the main database, and cleanup drops the database before
//    closing its pool. So we never let the engine use a shadow database: callers
//    apply the migrations themselves to a scratch database (scratch.ts) and diff
//    that database against the schema.
//  - It runs scripts by splitting them on ";", which breaks on a ";" in a string or
//    comment, so migrations are applied with `pg` (migrate.ts), not by the engine.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export const SCHEMA_PATH = path.resolve(__dirname, '../../prisma/schema.prisma');
const PROJECT_DIR = path.resolve(__dirname, '../..');

// The subset of @prisma/schema-engine-wasm we use.
type DiffTarget =
  | { tag: 'schemaDatamodel'; files: { path: string; content: string }[] }
  | { tag: 'schemaDatasource'; files: { path: string; content: string }[]; configDir: string };
interface SchemaEngine {
  diff(params: {
    from: DiffTarget;
    to: DiffTarget;
    script: boolean;
    exitCode: boolean | null;
    filters: { externalTables: string[]; externalEnums: string[] };
  }): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}
interface SchemaEngineClass {
  new: (options: { datamodels: [string, string][] | undefined }, log: (msg: string) => void, adapter: object) => Promise<SchemaEngine>;
}

// --- Workaround: adapter-pg does not map Postgres' "char" type (OID 18) -------------
// The engine's introspection reads one-letter codes such as pg_constraint.contype
// (present as soon as a table has a CHECK constraint) and wants them as a Character
// column. adapter-pg throws "Unsupported column type" on OID 18 instead. pg already
// parses the values as one-character strings; only the column type is missing. So:
//  1. CharAsTextClient relabels such columns as text, so the adapter accepts the result,
//     and remembers which columns of that SQL statement they were;
//  2. CharAwarePrismaPg marks those columns Character in the adapter's result set.
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
const charColumnsBySql = new Map<string, number[]>();

type PgResult = { fields?: { dataTypeID: number }[] };

function relabelCharColumns(sql: string | undefined, result: PgResult | PgResult[]) {
  for (const r of Array.isArray(result) ? result : [result]) {
    const char = (r?.fields ?? []).flatMap((f, i) => (f.dataTypeID === PG_CHAR_OID ? [i] : []));
    for (const i of char) r.fields![i].dataTypeID = PG_TEXT_OID;
    if (char.length && sql !== undefined) charColumnsBySql.set(sql, char);
  }
  return result;
}

class CharAsTextClient extends pg.Client {
  query(...args: unknown[]): any {
    const sql = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    const relabel = (res: PgResult) => relabelCharColumns(sql, res);
    // pg.Pool calls query() with a callback; the adapter's transactions use the promise form.
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: unknown, res: PgResult) => last(err, err ? res : relabel(res));
    }
    const ret = (pg.Client.prototype.query as (...a: unknown[]) => any).apply(this, args);
    return ret && typeof ret.then === 'function' ? ret.then(relabel) : ret;
  }
}

type Queryable = {
  queryRaw(q: { sql: string }): Promise<{ columnTypes: number[] }>;
  startTransaction?(...args: unknown[]): Promise<Queryable>;
};

function withCharColumns<T extends Queryable>(q: T): T {
  const queryRaw = q.queryRaw.bind(q);
  q.queryRaw = async (query) => {
    const rs = await queryRaw(query);
    for (const i of charColumnsBySql.get(query.sql) ?? []) rs.columnTypes[i] = adapterUtils().ColumnTypeEnum.Character;
    return rs;
  };
  const startTransaction = q.startTransaction?.bind(q);
  if (startTransaction) q.startTransaction = async (...args) => withCharColumns(await startTransaction(...args));
  return q;
}

class CharAwarePrismaPg extends PrismaPg {
  async connect() {
    return withCharColumns((await super.connect()) as unknown as Queryable) as unknown as Awaited<ReturnType<PrismaPg['connect']>>;
  }
}
// -------------------------------------------------------------------------------------

// The package is ESM, and its entry point imports the .wasm file as a module, which
// Node 20 can't do: so load its JS glue ourselves and instantiate the wasm next to it,
// as Prisma's own CLI does.
async function loadEngineClass(): Promise<SchemaEngineClass> {
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const glue = await import(gluePath);
  const wasm = new WebAssembly.Module(readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm')));
  const instance = new WebAssembly.Instance(wasm, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  // On a Rust panic the glue passes the message to this global (Prisma's CLI sets
  // it up), then the process dies with a bare "RuntimeError: unreachable".
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m) => console.error(`Prisma schema engine panicked: ${m}`) };
  (instance.exports.__wbindgen_start as () => void)();
  return glue.SchemaEngine as SchemaEngineClass;
}

// @prisma/driver-adapter-utils is adapter-pg's own dependency, not ours: load the
// copy adapter-pg uses.
function adapterUtils() {
  return createRequire(require.resolve('@prisma/adapter-pg'))('@prisma/driver-adapter-utils') as {
    ColumnTypeEnum: { Character: number };
    // Wraps the adapter so that driver errors come back to the engine as values.
    bindMigrationAwareSqlAdapterFactory(adapter: PrismaPg): object;
  };
}

type Diff = { empty: boolean; sql: string };

async function diffInThisProcess(databaseUrl: string, schemaPath: string): Promise<Diff> {
  const files = [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }];
  const pool = new pg.Pool({ connectionString: databaseUrl, Client: CharAsTextClient as unknown as typeof pg.Client, max: 2 });
  try {
    const SchemaEngine = await loadEngineClass();
    const debug = process.env.DEBUG_SCHEMA_ENGINE ? (msg: string) => console.error('[schema-engine]', msg) : () => undefined;
    const engine = await SchemaEngine.new(
      { datamodels: files.map((f) => [f.path, f.content]) },
      debug,
      adapterUtils().bindMigrationAwareSqlAdapterFactory(new CharAwarePrismaPg(pool)),
    );
    try {
      // "From the schema's datasource" is the database the adapter is connected to:
      // the wasm engine takes no URLs (it rejects --from-url).
      const { exitCode, stdout } = await engine.diff({
        from: { tag: 'schemaDatasource', files, configDir: PROJECT_DIR },
        to: { tag: 'schemaDatamodel', files },
        script: true,
        exitCode: true, // 2 when the diff is not empty
        filters: { externalTables: [], externalEnums: [] },
      });
      return { empty: exitCode === 0, sql: stdout ?? '' };
    } finally {
      engine.free();
    }
  } finally {
    await pool.end();
  }
}

/**
 * The SQL that takes the database at `databaseUrl` to the schema in `schemaPath`,
 * in the format of Prisma's migration files. `empty` when there is nothing to do.
 * Like `prisma migrate diff`, it ignores what Prisma can't express (CHECK constraints, ...).
 *
 * The engine runs in a child Node process (this file, through tsx): a Rust panic
 * kills the process it runs in, and Jest's module system can't load the engine's
 * ES module. It costs about half a second.
 */
export function diffDatabaseToSchema(databaseUrl: string, schemaPath = SCHEMA_PATH): Promise<Diff> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), __filename], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as Diff);
      else reject(new Error(`Prisma schema engine failed (exit ${code}):\n${stderr.trim()}`));
    });
    // On stdin rather than argv, where a password in the URL would be visible to ps.
    child.stdin.end(JSON.stringify({ databaseUrl, schemaPath }));
  });
}

if (require.main === module) {
  (async () => {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const { databaseUrl, schemaPath } = JSON.parse(input) as { databaseUrl: string; schemaPath: string };
    const diff = await diffInThisProcess(databaseUrl, schemaPath);
    // Exit once written: something (the engine, we think) keeps the event loop alive
    // for another 0.2-0.4 s after the pool is closed.
    process.stdout.write(JSON.stringify(diff), () => process.exit(0));
  })().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
}
