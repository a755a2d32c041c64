import { rmSync } from 'node:fs';
import { dropDatabase, TEMPLATE_DB } from './databases';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __devServer?: { teardown(): Promise<void> } }).__devServer;
  await server?.teardown();
  const nats = (globalThis as { __natsServer?: { stop(): Promise<void>; dir: string } }).__natsServer;
  await nats?.stop();
  if (nats) rmSync(nats.dir, { recursive: true, force: true });
  await dropDatabase(TEMPLATE_DB);
}
