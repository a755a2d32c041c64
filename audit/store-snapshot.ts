import type { Services } from '../services';

/**
 * Everything the auditor checks, read through each service's own module: the
 * auditor is one more reader, not an owner, of the services' tables.
 */
export type StoreSnapshot = Awaited<ReturnType<typeof readStores>>;

export async function readStores(services: Services) {
  const [reservations, products, payments, shipments, notifications] = await Promise.all([
    services.inventory.allReservations(),
    services.inventory.stockLevels(),
    services.payments.allPayments(),
    services.shipping.allShipments(),
    services.notifications.allNotifications(),
  ]);
  // Orders last: every other row is written after its order exists, so none of
  // them can look orphaned because its order was created while we read.
  const orders = await services.orders.allOrders();
  return { orders, reservations, products, payments, shipments, notifications };
}
