// A throw-away database on the same server as a given URL, for the migration check
// and for generating migrations. It stands in for Prisma's shadow database, which
// the wasm schema engine can't use here (see schema-engine.ts).
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { quoteIdent, withDatabase } from './migrate';

export async function withScratchDatabase<T>(serverUrl: string, fn: (url: string, name: string) => Promise<T>, prefix = 'scratch'): Promise<T> {
  // Unique per call, and at most 63 characters (Postgres' identifier limit).
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`.slice(0, 63);
  const admin = (sql: string) => adminQuery(serverUrl, sql);
  await admin(`CREATE DATABASE ${quoteIdent(name)}`);
  try {
    return await fn(withDatabase(serverUrl, name), name);
  } finally {
    // FORCE: a pool the caller forgot to close must not keep the database alive.
    await admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }
}

/** Runs one statement on the server's `postgres` database (for CREATE/DROP DATABASE). */
export async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
