import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl } from '../../lib/config';

// Every run gets its own template database, and every test file its own
// clone of it, so test files can run in parallel and count rows exactly.
const baseUrl = new URL(databaseUrl());
export const TEMPLATE_DB = process.env.TEST_TEMPLATE_DB ?? (process.env.TEST_TEMPLATE_DB = `checkout_test_${process.pid}`);

export function databaseUrlFor(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrlFor('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new database cloned from the migrated, seeded template. */
export async function cloneTemplate(): Promise<{ name: string; url: string }> {
  const name = `${TEMPLATE_DB}_${randomBytes(4).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`));
      return { name, url: databaseUrlFor(name) };
    } catch (err) {
      // 55006: another test file is cloning the template at this very moment.
      if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
