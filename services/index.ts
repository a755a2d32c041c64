import type { Db } from '../lib/db';
import { FraudService } from './fraud/fraud-service';
import { InventoryService } from './inventory/inventory-service';
import { NotificationService } from './notification/notification-service';
import { OrderService } from './order/order-service';
import { PaymentService } from './payment/payment-service';
import { ShippingService } from './shipping/shipping-service';
import { SERVICE_DEFAULTS, type ServiceSettings } from './defaults';

export type { ServiceSettings };

export type Services = {
  orders: OrderService;
  inventory: InventoryService;
  payments: PaymentService;
  shipping: ShippingService;
  fraud: FraudService;
  notifications: NotificationService;
};

export function createServices(db: Db, settings: ServiceSettings = {}): Services {
  const inventory = new InventoryService(db, settings.reservationTtlSeconds ?? SERVICE_DEFAULTS.reservationTtlSeconds);
  return {
    inventory,
    orders: new OrderService(db, inventory),
    payments: new PaymentService(db),
    shipping: new ShippingService(db, settings.carrierFailureRate ?? SERVICE_DEFAULTS.carrierFailureRate),
    fraud: new FraudService(settings.fraudTotalLimit ?? SERVICE_DEFAULTS.fraudTotalLimit),
    notifications: new NotificationService(db),
  };
}
