// The Temporal server's two PostgreSQL databases (persistence and
// visibility): created if missing, their schema applied with the server's own
// temporal-sql-tool, so an existing database is upgraded rather than replaced.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ensureDatabase, quoteIdent, withDatabase } from './db/migrate';
import { adminQuery } from './db/scratch';
import type { Log } from './go-install';
import type { TemporalServerBinaries } from './temporal-server-build';

const run = promisify(execFile);

/** Where the server finds PostgreSQL: parts of a postgresql:// URL. */
export type PgEndpoint = { host: string; port: number; user: string; password: string };

export function pgEndpoint(url: string): PgEndpoint {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
  };
}

/** Creates `database` on the server of `serverUrl` if needed and brings its schema (`temporal` or `visibility`) to the newest version. */
export async function setupSchema(
  bins: TemporalServerBinaries,
  serverUrl: string,
  database: string,
  schema: 'temporal' | 'visibility',
  log: Log,
): Promise<void> {
  const pg = pgEndpoint(serverUrl);
  const url = withDatabase(serverUrl, database);
  if (await ensureDatabase(url)) log(`created database ${database}`);
  const tool = (...args: string[]) =>
    run(bins.sqlTool, [
      '--plugin',
      'postgres12',
      '--ep',
      pg.host,
      '--port',
      String(pg.port),
      '--user',
      pg.user,
      ...(pg.password ? ['--password', pg.password] : []),
      '--db',
      database,
      ...args,
    ]).catch((err: Error & { stderr?: string }) => {
      throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${err.stderr || err.message}`);
    });
  // setup-schema -v 0.0 only creates the version table; every table comes
  // from the versioned dir, the same path an upgrade takes.
  if (!(await hasVersionTable(url))) await tool('setup-schema', '-v', '0.0');
  await tool('update-schema', '-d', path.join(bins.schemaDir, schema, 'versioned'));
}

async function hasVersionTable(url: string): Promise<boolean> {
  return withClient(url, async (c) => (await c.query("SELECT to_regclass('public.schema_version') IS NOT NULL AS present")).rows[0].present);
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function dropDatabases(serverUrl: string, names: string[]): Promise<void> {
  // FORCE: the server's pools may outlive it by a moment.
  for (const name of names) await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}
