// Fails when prisma/schema.prisma and prisma/migrations disagree: applies every
// migration to a scratch database, then asks Prisma's schema engine what it would
// take to get from that database to the schema. Anything at all means someone
// changed the schema without adding a migration (npm run db:new-migration -- <name>)
// or edited a migration by hand in a way the schema doesn't say.
//
// CHECK constraints added by hand to a migration don't count as a difference:
// the schema language can't express them, and the engine's diff ignores them.
import { databaseUrl } from '../../lib/config';
import { migrate } from './migrate';
import { diffDatabaseToSchema } from './schema-engine';
import { withScratchDatabase } from './scratch';

export async function checkMigrations(
  opts: { serverUrl?: string; schemaPath?: string; migrationsDir?: string } = {},
): Promise<{ inSync: boolean; sql: string }> {
  return withScratchDatabase(
    opts.serverUrl ?? databaseUrl(),
    async (url) => {
      await migrate(url, { log: () => undefined, migrationsDir: opts.migrationsDir });
      const diff = await diffDatabaseToSchema(url, opts.schemaPath);
      return { inSync: diff.empty, sql: diff.empty ? '' : diff.sql };
    },
    'migrations_check',
  );
}

if (require.main === module) {
  const started = Date.now();
  checkMigrations()
    .then(({ inSync, sql }) => {
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (inSync) {
        console.log(`OK: prisma/migrations match prisma/schema.prisma (${took})`);
        return;
      }
      console.error('prisma/schema.prisma and prisma/migrations disagree. After all migrations, the database still needs:\n');
      console.error(sql.trim());
      console.error(`\nAdd a migration for it: npm run db:new-migration -- <name>  (${took})`);
      process.exitCode = 1;
    })
    .catch((err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    });
}
