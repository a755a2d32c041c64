import type { Db } from '../lib/db';
import { InventoryService } from './inventory/inventory-service';
import { OrderService } from './order/order-service';
import { PaymentService } from './payment/payment-service';
import { ShippingService } from './shipping/shipping-service';

export type Services = {
  orders: OrderService;
  inventory: InventoryService;
  payments: PaymentService;
  shipping: ShippingService;
};

export function createServices(db: Db, opts: { carrierFailureRate?: number } = {}): Services {
  const inventory = new InventoryService(db);
  return {
    inventory,
    orders: new OrderService(db, inventory),
    payments: new PaymentService(db),
    shipping: new ShippingService(db, opts.carrierFailureRate ?? 0),
  };
}
