// Applies prisma/migrations/*/migration.sql to a database, the way
// `prisma migrate deploy` does, and records them in the same `_prisma_migrations`
// table, so the real `prisma migrate deploy` / `migrate status` later sees them as
// applied.
//
// Why not just run `prisma migrate deploy`? The Prisma 7 CLI needs its native
// schema engine for that, which it downloads on first use; machines without
// internet access (ours, CI) cannot get it. Applying plain SQL files needs only `pg`.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { databaseUrl } from '../../lib/config';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

// The lock key Prisma Migrate uses, so our runs and Prisma's exclude each other too.
const PRISMA_MIGRATE_LOCK = 72707369;

export type Migration = { name: string; script: string; checksum: string };

/** sha256 hex of the script: what Prisma stores in `_prisma_migrations.checksum`. */
export function checksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

// Prisma accepts a stored checksum of the file with either line ending, because
// git may check a file out with CRLF on one machine and LF on another.
function checksumMatches(script: string, stored: string): boolean {
  const lf = script.replace(/\r\n/g, '\n');
  return [script, lf, lf.replace(/\n/g, '\r\n')].some((s) => checksum(s) === stored);
}

/** The migrations on disk, in name order (the name starts with a UTC timestamp). */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const script = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: checksum(script) };
    });
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The URL of another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Creates the URL's database unless it exists; true if it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } catch (err) {
    // Another process created it between our check and our CREATE.
    const code = (err as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw err;
  } finally {
    await admin.end();
  }
}

export async function migrate(databaseUrl: string, opts: { log?: (msg: string) => void; migrationsDir?: string } = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? ((msg: string) => console.log(msg));
  const dir = opts.migrationsDir ?? MIGRATIONS_DIR;
  checkLockfile(dir);
  const migrations = readMigrations(dir);

  if (await ensureDatabase(databaseUrl)) log(`Created database ${new URL(databaseUrl).pathname.slice(1)}`);

  // Like Prisma: the migrations table lives in the URL's `schema` (default public).
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? 'public';
  const table = `${quoteIdent(schema)}._prisma_migrations`;

  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const locked = await client.query('SELECT pg_try_advisory_lock($1) AS ok', [PRISMA_MIGRATE_LOCK]);
    if (!locked.rows[0].ok) {
      log('Waiting for another migration run to finish...');
      await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    }
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    // Prisma's own DDL for the table (schema engine, postgres flavour).
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${table} (
          id                      VARCHAR(36) PRIMARY KEY NOT NULL,
          checksum                VARCHAR(64) NOT NULL,
          finished_at             TIMESTAMPTZ,
          migration_name          VARCHAR(255) NOT NULL,
          logs                    TEXT,
          rolled_back_at          TIMESTAMPTZ,
          started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
          applied_steps_count     INTEGER NOT NULL DEFAULT 0
      )`);

    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      started_at: Date;
      logs: string | null;
    }>(`SELECT migration_name, checksum, finished_at, rolled_back_at, started_at, logs FROM ${table} ORDER BY started_at`);

    // A row that neither finished nor was rolled back is a migration that failed
    // under `prisma migrate deploy` (ours roll back whole and leave no row).
    // Prisma refuses to go on (P3009) until someone resolves it; so do we.
    const failed = rows.filter((r) => !r.finished_at && !r.rolled_back_at);
    if (failed.length) {
      const list = failed.map((r) => `  ${r.migration_name} (started ${r.started_at.toISOString()})${r.logs ? `: ${r.logs.trim()}` : ''}`);
      throw new Error(
        `Found failed migrations in ${table}:\n${list.join('\n')}\n` +
          'Fix the database by hand, then mark them with `prisma migrate resolve --rolled-back|--applied <name>`.',
      );
    }

    const applied = new Map(rows.filter((r) => !r.rolled_back_at).map((r) => [r.migration_name, r]));
    const onDisk = new Set(migrations.map((m) => m.name));
    for (const name of applied.keys()) {
      if (!onDisk.has(name)) log(`Warning: ${name} is recorded as applied but is not in ${dir}`);
    }

    const done: string[] = [];
    for (const m of migrations) {
      const row = applied.get(m.name);
      if (row) {
        // `migrate deploy` itself doesn't compare checksums (only `migrate dev`/`status` do),
        // but a silently edited migration means databases built from it differ: stop here.
        if (!checksumMatches(m.script, row.checksum)) {
          throw new Error(
            `Migration ${m.name} was changed after it was applied to this database: ` +
              `its checksum is ${m.checksum}, ${table} recorded ${row.checksum}. ` +
              'Restore the original migration.sql and put the change in a new migration (npm run db:new-migration -- <name>).',
          );
        }
        continue;
      }
      await applyOne(client, table, m);
      log(`Applied ${m.name}`);
      done.push(m.name);
    }
    if (!done.length) log('No pending migrations.');
    return { applied: done };
  } finally {
    // Ending the session also releases the advisory lock.
    await client.end();
  }
}

// One migration, one transaction: the row is written the way Prisma writes it
// (insert when started, then applied_steps_count + 1 and finished_at), but a
// failure rolls back the script and the row together, so the database is left as
// it was instead of in Prisma's "failed migration" state.
// (A script that can't run in a transaction, e.g. CREATE INDEX CONCURRENTLY, needs `prisma migrate deploy`.)
async function applyOne(client: Client, table: string, m: Migration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name) VALUES ($1, $2, clock_timestamp(), $3)`, [id, m.checksum, m.name]);
    // No parameters: pg uses the simple query protocol, which runs a multi-statement script.
    await client.query(m.script);
    await client.query(`UPDATE ${table} SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp() WHERE id = $1`, [id]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`, { cause: err });
  }
}

// Prisma refuses to apply migrations written for another provider (P3019).
function checkLockfile(dir: string): void {
  const file = path.join(dir, 'migration_lock.toml');
  if (!existsSync(file)) return;
  const provider = /^provider\s*=\s*"([^"]*)"/m.exec(readFileSync(file, 'utf8'))?.[1];
  if (provider !== 'postgresql') {
    throw new Error(`${file} says provider = "${provider}", but these migrations are applied to PostgreSQL.`);
  }
}

if (require.main === module) {
  migrate(databaseUrl()).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
