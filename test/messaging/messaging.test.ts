import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMessaging } from '../../services/messaging';
import { freePort } from '../../scripts/dev-server';
import { startNatsServer } from '../../scripts/nats-server';
import { eventually, useJetStream } from '../support/jetstream';
import { uniqueId, useServiceDb } from '../support/service-db';

// The worker's messaging as a whole: relay and consumer over one connection.
const ctx = useServiceDb();
const nats = useJetStream();

async function closeOrder(): Promise<string> {
  const orderId = uniqueId('ord');
  await ctx.services.orders.create({ orderId, customerId: 'cust_m', items: [{ sku: 'KB-001', quantity: 1 }] }, `${orderId}:create`);
  await ctx.services.orders.close(orderId, { status: 'COMPENSATED', failedStep: 'reserveInventory', reason: 'out_of_stock' }, `${orderId}:close`);
  return orderId;
}

describe('messaging', () => {
  it('delivers a closed order as one notification', async () => {
    const logs: string[] = [];
    const messaging = startMessaging({ db: ctx.db, natsUrl: nats.url, names: nats.freshNames(), log: (m) => logs.push(m) });
    try {
      await messaging.ready;
      const orderId = await closeOrder();
      await eventually(async () => (await ctx.services.notifications.notificationsFor(orderId)).length > 0, 'a notification');
      expect(await ctx.services.notifications.notificationsFor(orderId)).toEqual([
        expect.objectContaining({ to: 'cust_m@example.com', body: expect.stringContaining('out of stock') }),
      ]);
    } finally {
      await messaging.stop();
    }
  });

  it('without a broker, facts wait in the outbox and are sent once NATS is reachable', async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const logs: string[] = [];
    const names = { stream: `ORDERS_LATE_${process.pid}`, subjectPrefix: `late${process.pid}.orders` };
    const messaging = startMessaging({ db: ctx.db, natsUrl: url, names, log: (m) => logs.push(m), retryMaxMs: 1000 });
    const dir = mkdtempSync(join(tmpdir(), 'checkout-test-late-nats-'));
    let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
    try {
      const orderId = await closeOrder();
      await eventually(async () => logs.some((l) => l.includes(`NATS is not reachable at NATS_URL=${url}`)), 'the warning');
      expect(logs.join('\n')).toContain('notifications will be sent once NATS is reachable');
      await new Promise((r) => setTimeout(r, 500));
      expect(await ctx.db.outboxEvent.findFirst({ where: { orderId } })).toMatchObject({ publishedAt: null });

      server = await startNatsServer({ storeDir: dir, port });
      await eventually(async () => (await ctx.services.notifications.notificationsFor(orderId)).length === 1, 'the late notification');
      expect(await ctx.db.outboxEvent.findFirst({ where: { orderId } })).toMatchObject({ publishedAt: expect.any(Date) });
    } finally {
      await messaging.stop();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
