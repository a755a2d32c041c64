import { z } from 'zod';
import { CHECKOUT_STATUSES } from '../workflows/checkout-types';

// The edge contract for POST /orders. `.strict()` rejects unknown fields, so a
// typo such as `quantitiy` is an error instead of a silently dropped field.
const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const text = (max: number) => z.string().trim().min(1).max(max);

// A tok_ prefix does not make a pasted card number safe, so no run of 13 or
// more digits either (a PAN has 13 to 19, ISO/IEC 7812), underscores ignored as
// separators. Stricter than a Luhn check on purpose: a mistyped card number
// fails Luhn and is still a card number we must not store or log.
const paymentToken = z
  .string()
  .max(64)
  .regex(/^tok_[A-Za-z0-9_]+$/, 'a payment token such as tok_visa')
  .refine((token) => !/\d{13,}/.test(token.replaceAll('_', '')), "looks like a card number: send the payment provider's token, never card data");

const coordination = z.enum(['orchestration', 'choreography']);

const lineItem = z
  .object({
    sku: id,
    quantity: z.number().int('quantity must be an integer').positive('quantity must be positive').max(100),
  })
  .strict();

export const orderRequestSchema = z
  .object({
    customerId: id,
    items: z
      .array(lineItem)
      .min(1)
      .max(20)
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, i) => {
          if (seen.has(item.sku)) {
            ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: `duplicate SKU ${item.sku}; use one line with a larger quantity` });
          }
          seen.add(item.sku);
        });
      }),
    // Card data never reaches us: only a provider token, like a real integration.
    payment: z.object({ token: paymentToken }).strict(),
    shippingAddress: z
      .object({
        name: text(100),
        line1: text(200),
        city: text(100),
        postalCode: text(20),
        country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as GB'),
      })
      .strict(),
    // Absent means orchestration; left out of the parsed body then, so its hash (the Idempotency-Key's check) is what it always was.
    coordination: coordination.optional(),
  })
  .strict();

export type OrderRequest = z.infer<typeof orderRequestSchema>;

// Printable ASCII, as in the IETF Idempotency-Key draft's examples.
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const orderIdSchema = id;

export const countsQuerySchema = z.object({ coordination: coordination.optional() }).strict();

export const resolveRequestSchema = z
  .object({
    action: z.enum(['retry', 'mark-resolved']),
    note: text(1000),
  })
  .strict();

export const listQuerySchema = z
  .object({
    // Orchestrated orders are listed from Temporal's visibility store, choreographed ones from the order service.
    coordination: coordination.optional(),
    status: z.enum(CHECKOUT_STATUSES).optional(),
    customerId: id.optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
    // As the API issued it in a Link header: base64url, opaque.
    pageToken: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a page token from a Link header')
      .optional(),
  })
  .strict();
