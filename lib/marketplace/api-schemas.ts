import { z } from "zod";

/** Shapes of the marketplace API (docs/marketplace-api.md), validated at the edge. */

const quantity = z.union([z.string(), z.number()]).transform(String);

export const marketplaceCustomerSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  external_id: z.string().nullish(),
  contact_info: z
    .object({ email: z.string().nullish(), contact_name: z.string().nullish() })
    .passthrough()
    .nullish(),
  currency: z.string().nullish(),
  created: z.string().nullish(),
  updated: z.string().nullish(),
}).passthrough();
export type MarketplaceCustomerDto = z.infer<typeof marketplaceCustomerSchema>;

export const marketplaceProductSchema = z.object({
  id: z.string().min(1),
  mpn: z.string().min(1),
  name: z.string().min(1),
  description: z.string().nullish(),
  unit_price: z.union([z.string(), z.number()]).transform(String).nullish(),
  currency: z.string().nullish(),
  billing_period: z.enum(["monthly", "yearly", "one_time"]).nullish(),
  type: z.enum(["item", "fee"]).default("item"),
  fee_kind: z.string().nullish(),
  updated: z.string().nullish(),
}).passthrough();
export type MarketplaceProductDto = z.infer<typeof marketplaceProductSchema>;

export const orderItemSchema = z.object({
  id: z.string().nullish(),
  mpn: z.string().min(1),
  name: z.string().nullish(),
  quantity,
  old_quantity: quantity.default("0"),
  unit_price: z.union([z.string(), z.number()]).transform(String).nullish(),
  /** what the marketplace charged (or refunds) for this line in the order's currency, net of tax — pro-rated changes, usage */
  amount: z.union([z.string(), z.number()]).transform(String).nullish(),
}).passthrough();

export const REQUEST_TYPES = ["purchase", "change", "suspend", "resume", "cancel", "billing"] as const;

export const marketplaceRequestSchema = z.object({
  id: z.string().min(1),
  type: z.enum(REQUEST_TYPES),
  status: z.string().nullish(),
  created: z.string().min(1),
  updated: z.string().nullish(),
  currency: z.string().nullish(),
  billing_period: z.string().nullish(),
  account_id: z.string().nullish(),
  asset: z.object({
    id: z.string().nullish(),
    external_id: z.string().nullish(),
    product: z.object({ id: z.string().nullish(), name: z.string().nullish() }).passthrough().nullish(),
    items: z.array(orderItemSchema),
    tiers: z.object({ customer: marketplaceCustomerSchema }).passthrough(),
  }).passthrough(),
  marketplace: z.object({ id: z.string() }).passthrough().nullish(),
}).passthrough();
export type MarketplaceRequestDto = z.infer<typeof marketplaceRequestSchema>;

export const installationRegistrationSchema = z.object({
  id: z.string().min(1),
  account_id: z.string(),
  webhook_url: z.string(),
  webhook_secret: z.string().startsWith("whsec_"),
}).passthrough();

/** Webhook bodies: `{ type, timestamp, data }` (Standard Webhooks payload structure). */
export const webhookEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.enum(["order.created", "order.updated"]), timestamp: z.string(), data: z.object({ installation_id: z.string().nullish(), account_id: z.string(), request: marketplaceRequestSchema }) }),
  z.object({ type: z.enum(["customer.created", "customer.updated"]), timestamp: z.string(), data: z.object({ installation_id: z.string().nullish(), account_id: z.string(), customer: marketplaceCustomerSchema }) }),
  z.object({ type: z.enum(["product.created", "product.updated"]), timestamp: z.string(), data: z.object({ installation_id: z.string().nullish(), account_id: z.string(), product: marketplaceProductSchema }) }),
  /** the reseller removed the plugin in the marketplace */
  z.object({ type: z.literal("installation.uninstalled"), timestamp: z.string(), data: z.object({ installation_id: z.string().nullish(), account_id: z.string() }) }),
]);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;
export const WEBHOOK_EVENT_TYPES = ["order.created", "order.updated", "customer.created", "customer.updated", "product.created", "product.updated", "installation.uninstalled"] as const;
