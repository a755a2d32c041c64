import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { databaseUrl } from '../../lib/config';
import { checkMigrations } from '../../scripts/db/check';
import { MIGRATIONS_DIR, migrate, readMigrations, withDatabase } from '../../scripts/db/migrate';

// A database of this file's own, which migrate() creates and the file drops.
const name = `migrations_test_${process.pid}_${randomBytes(4).toString('hex')}`;
const url = withDatabase(databaseUrl(), name);

async function query<T>(target: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: target });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await query(withDatabase(databaseUrl(), 'postgres'), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

describe('migrate()', () => {
  const onDisk = readMigrations();

  it('finds migrations on disk', () => {
    expect(onDisk.length).toBeGreaterThan(0);
  });

  it('creates the database, applies every migration once, and skips them the second time', async () => {
    const first = await migrate(url, { log: () => undefined });
    expect(first.applied).toEqual(onDisk.map((m) => m.name));

    const second = await migrate(url, { log: () => undefined });
    expect(second.applied).toEqual([]);
  });

  it('records each migration in _prisma_migrations as `prisma migrate deploy` does', async () => {
    const rows = await query<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      started_at: Date;
      logs: string | null;
      applied_steps_count: number;
    }>(url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');

    expect(rows.map((r) => r.migration_name)).toEqual(onDisk.map((m) => m.name));
    for (const row of rows) {
      const file = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('keeps the CHECK constraints written by hand in the migrations', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await expect(client.query(`INSERT INTO inventory.products (sku, name, price, available) VALUES ('neg', 'x', 100, -1)`)).rejects.toThrow(
        /products_available_check/,
      );
    } finally {
      await client.end();
    }
  });
});

describe('checkMigrations()', () => {
  it('reports prisma/schema.prisma and prisma/migrations in sync', async () => {
    await expect(checkMigrations()).resolves.toEqual({ inSync: true, sql: '' });
  });
});
