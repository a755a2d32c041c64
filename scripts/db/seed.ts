import { createDb } from '../../lib/db';
import { databaseUrl } from '../../lib/config';
import { InventoryService } from '../../services/inventory/inventory-service';
import { CATALOG_SEED } from '../../services/inventory/catalog-seed';

/** Adds the demo catalog's missing products. Stock of existing products is kept. */
export async function seedCatalog(url: string): Promise<void> {
  const db = createDb(url, 1);
  try {
    await new InventoryService(db).addMissingProducts(CATALOG_SEED);
  } finally {
    await db.$disconnect();
  }
}

if (require.main === module) {
  seedCatalog(databaseUrl()).then(
    () => console.log(`Catalog seeded (${CATALOG_SEED.length} products)`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
