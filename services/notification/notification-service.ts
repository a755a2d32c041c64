import type { Db } from '../../lib/db';
import type { OrderClosedFact } from '../order/order-events';
import { orderEmail } from './order-email';

export type NotificationView = {
  eventId: string;
  channel: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
};

/**
 * Tells customers how their orders ended. It owns the `notifications` schema and
 * learns about orders only from the facts the order service publishes.
 */
export class NotificationService {
  constructor(private readonly db: Db) {}

  /**
   * Handles one fact, once: the inbox row and the notifications it causes commit
   * together, so a fact delivered twice (a redelivery, or a relay that
   * republished it) finds its inbox row and sends nothing more.
   */
  async handle(fact: OrderClosedFact): Promise<'sent' | 'duplicate'> {
    return this.db.$transaction(async (tx) => {
      // ON CONFLICT DO NOTHING: a concurrent delivery of the same fact waits on
      // our row and then inserts nothing, instead of failing.
      const { count } = await tx.inboxMessage.createMany({ data: [{ eventId: fact.eventId, type: fact.type }], skipDuplicates: true });
      if (count === 0) return 'duplicate';
      await tx.notification.create({ data: { eventId: fact.eventId, orderId: fact.orderId, channel: 'email', ...orderEmail(fact) } });
      return 'sent';
    });
  }

  /** Which order each notification was for, for the invariant auditor. */
  allNotifications(): Promise<{ orderId: string; eventId: string }[]> {
    return this.db.notification.findMany({ select: { orderId: true, eventId: true } });
  }

  async notificationsFor(orderId: string): Promise<NotificationView[]> {
    const rows = await this.db.notification.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
    return rows.map((n) => ({ eventId: n.eventId, channel: n.channel, to: n.to, subject: n.subject, body: n.body, sentAt: n.sentAt.toISOString() }));
  }
}
