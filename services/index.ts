import type { Db } from '../lib/db';
import { FraudService } from './fraud/fraud-service';
import { InventoryService } from './inventory/inventory-service';
import { NotificationService } from './notification/notification-service';
import { OrderService } from './order/order-service';
import { PaymentService } from './payment/payment-service';
import { ShippingService } from './shipping/shipping-service';

export type Services = {
  orders: OrderService;
  inventory: InventoryService;
  payments: PaymentService;
  shipping: ShippingService;
  fraud: FraudService;
  notifications: NotificationService;
};

export type ServiceSettings = {
  /** Share of carrier calls that fail transiently, 0 to 1. */
  carrierFailureRate?: number;
  /** Orders above this total (minor units) are flagged as fraud. */
  fraudTotalLimit?: number;
  /** A hold left by a vanished saga is released after this. */
  reservationTtlSeconds?: number;
};

export function createServices(db: Db, settings: ServiceSettings = {}): Services {
  const inventory = new InventoryService(db, settings.reservationTtlSeconds ?? 3600);
  return {
    inventory,
    orders: new OrderService(db, inventory),
    payments: new PaymentService(db),
    shipping: new ShippingService(db, settings.carrierFailureRate ?? 0),
    fraud: new FraudService(settings.fraudTotalLimit ?? 1_000_000),
    notifications: new NotificationService(db),
  };
}
