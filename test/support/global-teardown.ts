import { dropDatabase, TEMPLATE_DB } from './databases';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __devServer?: { teardown(): Promise<void> } }).__devServer;
  await server?.teardown();
  await dropDatabase(TEMPLATE_DB);
}
