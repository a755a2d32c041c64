import { createDb, type Db } from '../../lib/db';
import { createServices, type ServiceSettings, type Services } from '../../services';
import { cloneTemplate, dropDatabase } from './databases';

/** A test file's own migrated database, with the services over it. */
export function useServiceDb(opts: ServiceSettings = {}) {
  const ctx = {} as { db: Db; services: Services };
  let name: string;
  beforeAll(async () => {
    const database = await cloneTemplate();
    name = database.name;
    ctx.db = createDb(database.url, 10);
    ctx.services = createServices(ctx.db, opts);
  });
  afterAll(async () => {
    await ctx.db?.$disconnect();
    if (name) await dropDatabase(name);
  });
  return ctx;
}

let counter = 0;
/** Unique ids, so tests in one file never share an order or a SKU. */
export const uniqueId = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
