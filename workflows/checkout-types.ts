// Types shared by the workflow, its activities and the API. Pure: no imports
// with side effects, so the workflow sandbox can load it.

export type LineItem = { sku: string; quantity: number };
export type Address = { name: string; line1: string; city: string; postalCode: string; country: string };

export type CheckoutInput = {
  orderId: string;
  customerId: string;
  items: LineItem[];
  payment: { token: string };
  shippingAddress: Address;
};

export const STEPS = ['createOrder', 'reserveInventory', 'chargePayment', 'createShipment', 'completeOrder'] as const;
export type StepName = (typeof STEPS)[number];

export type CheckoutStatus =
  | 'PENDING'
  | 'RESERVING_INVENTORY'
  | 'CHARGING_PAYMENT'
  | 'CREATING_SHIPMENT'
  | 'COMPLETED'
  | 'COMPENSATING'
  | 'COMPENSATED'
  | 'FAILED';

export const TERMINAL_STATUSES: readonly CheckoutStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'compensating' | 'compensated';
export type StepState = { name: StepName; status: StepStatus; attempts: number };

/** Why the saga did not complete. `reason` is machine-readable, e.g. `out_of_stock`. */
export type CheckoutFailure = { step: StepName; reason: string; message: string };

export type CheckoutState = {
  orderId: string;
  status: CheckoutStatus;
  total: number | null;
  currency: string;
  steps: StepState[];
  failure?: CheckoutFailure;
  trackingNumber?: string | null;
};

/** Every activity result says on which attempt it succeeded, for the status query. */
export type Attempted<T> = T & { attempt: number };

/** Details attached to every ApplicationFailure an activity throws. */
export type FailureDetails = { attempt: number; [key: string]: unknown };
