// Control API of the simulated marketplace (/__sandbox/marketplace/*): place orders in bulk,
// grow the catalog, add customers, rotate the webhook secret, read deliveries and state.
import { z } from "zod";
import { json, text, type Reply } from "../http";
import { controlBody, route, type RequestContext, type Route } from "../router";
import { isoSeconds } from "./catalog";
import { announceCustomer, announceOrder, announceProduct } from "./events";
import { generateOrders } from "./generator";
import type { DeliveryRecord } from "./webhooks";
import { AccountWorld, MarketplaceWorld, newWebhookSecret, OrderError, REQUEST_TYPES, type Installation, type RequestRec } from "./world";

function bad(message: string, extra: Record<string, unknown> = {}): Reply {
  return json(400, { error: "bad_request", message, ...extra });
}

const accountId = z.string().regex(/^[A-Za-z0-9-]{1,40}$/, "1–40 letters, digits or dashes");

function issuesMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

function worldOf(ctx: RequestContext, id: string): AccountWorld {
  return ctx.sb.marketplace.account(id);
}

export function renderInstallation(inst: Installation | null): Record<string, unknown> | null {
  if (!inst) return null;
  return {
    id: inst.id,
    account_id: inst.accountId,
    product_id: inst.productId,
    webhook_url: inst.webhookUrl,
    created: isoSeconds(inst.createdMs),
    secrets: inst.secrets.length,
    rotating: inst.secrets.length > 1,
    disabled: inst.disabled,
    uninstalled: inst.uninstalledMs ? isoSeconds(inst.uninstalledMs) : null,
  };
}

function counts(w: AccountWorld): Record<string, number> {
  let terminated = 0;
  for (const s of w.subscriptions.values()) if (s.status === "terminated") terminated += 1;
  return {
    customers: w.customers.length,
    products: w.products.length,
    requests: w.requests.length,
    subscriptions: w.subscriptions.size,
    active: w.active.size,
    suspended: w.suspended.size,
    terminated,
  };
}

function state(ctx: RequestContext): Reply {
  const id = ctx.query.account ?? ctx.query.account_id;
  const mp = ctx.sb.marketplace;
  if (!id) {
    return json(200, {
      accounts: [...mp.accounts.values()].map((w) => ({ account_id: w.id, name: w.name, installation: renderInstallation(w.installation), counts: counts(w) })),
      webhooks: ctx.sb.webhooks.stats(),
    });
  }
  if (!MarketplaceWorld.validAccountId(id)) return bad("account must be 1–40 letters, digits or dashes");
  const w = worldOf(ctx, id);
  return json(200, {
    account_id: w.id,
    name: w.name,
    installation: renderInstallation(w.installation),
    counts: counts(w),
    customers: w.customers.map((c) => ({ ...c.api, announced: c.announced })),
    subscriptions: [...w.subscriptions.values()].map((s) => w.renderSubscription(s)),
    webhooks: ctx.sb.webhooks.stats(),
  });
}

function deliveries(ctx: RequestContext): Reply {
  const { account, event_id, type, outcome } = ctx.query;
  const filter = (r: DeliveryRecord): boolean =>
    (!account || r.account_id === account) && (!event_id || r.event_id === event_id) && (!type || r.type === type) && (!outcome || r.outcome === outcome);
  const list = ctx.sb.webhooks.deliveries(filter);
  return text(200, list.map((r) => JSON.stringify(r)).join("\n") + (list.length ? "\n" : ""), "application/x-ndjson; charset=utf-8");
}

function installed(ctx: RequestContext, id: string): AccountWorld | Reply {
  const w = worldOf(ctx, id);
  if (!w.installation) return json(404, { error: "not_found", message: `account ${id} has no installation (POST /marketplace/public/v1/installations first)` });
  return w;
}

function rotate(ctx: RequestContext): Reply {
  const parsed = z.object({ account_id: accountId }).safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const w = installed(ctx, parsed.data.account_id);
  if (!(w instanceof AccountWorld)) return w;
  const inst = w.installation as Installation;
  const secret = newWebhookSecret();
  inst.secrets = [secret, ...inst.secrets];
  return json(200, { account_id: w.id, installation_id: inst.id, webhook_secret: secret, secrets: inst.secrets.length });
}

function endRotation(ctx: RequestContext): Reply {
  const parsed = z.object({ account_id: accountId }).safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const w = installed(ctx, parsed.data.account_id);
  if (!(w instanceof AccountWorld)) return w;
  const inst = w.installation as Installation;
  const dropped = inst.secrets.length - 1;
  inst.secrets = inst.secrets.slice(0, 1);
  return json(200, { account_id: w.id, installation_id: inst.id, dropped, secrets: inst.secrets.length });
}

const quantity = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, "a non-negative number")]).transform((q) => Number(q));

const orderSchema = z
  .object({
    type: z.enum(REQUEST_TYPES),
    customer_id: z.string().min(1).optional(),
    subscription_id: z.string().min(1).optional(),
    items: z.array(z.object({ mpn: z.string().min(1), quantity }).strict()).optional(),
    cancellation_fee: z.boolean().optional(),
    created: z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), "an ISO 8601 date-time")
      .optional(),
  })
  .strict();

const ordersSchema = z
  .object({
    account_id: accountId,
    orders: z.array(orderSchema).min(1).max(100_000).optional(),
    generate: z
      .object({
        count: z.number().int().min(1).max(200_000),
        types: z.array(z.enum(REQUEST_TYPES)).min(1).optional(),
        customer_ids: z.array(z.string().min(1)).min(1).optional(),
        mpns: z.array(z.string().min(1)).min(1).optional(),
        backdate_days: z.number().min(0).max(3650).optional(),
      })
      .strict()
      .optional(),
    webhooks: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.orders ? 1 : 0) + (b.generate ? 1 : 0) === 1, "give exactly one of orders or generate");

function postOrders(ctx: RequestContext): Reply {
  const parsed = ordersSchema.safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const body = parsed.data;
  const w = worldOf(ctx, body.account_id);
  const started = performance.now();
  const created: RequestRec[] = [];
  if (body.generate) {
    try {
      created.push(...generateOrders(w, body.generate, ctx.sb.now()));
    } catch (e) {
      if (e instanceof OrderError) return bad(e.message);
      throw e;
    }
  } else {
    for (const [index, o] of (body.orders ?? []).entries()) {
      try {
        created.push(
          w.placeOrder({
            type: o.type,
            customer_id: o.customer_id,
            subscription_id: o.subscription_id,
            items: o.items,
            cancellation_fee: o.cancellation_fee,
            atMs: o.created ? Date.parse(o.created) : undefined,
          }),
        );
      } catch (e) {
        if (!(e instanceof OrderError)) throw e;
        return json(400, { error: "invalid_order", message: `orders[${index}]: ${e.message}`, index, ids: created.map((r) => r.api.id) });
      }
    }
  }
  let events = 0;
  if (body.webhooks) for (const r of created) events += announceOrder(ctx.sb, w, r);
  const durationMs = Math.round(performance.now() - started);
  return json(201, {
    account_id: w.id,
    count: created.length,
    ids: created.map((r) => r.api.id),
    ...(body.orders ? { requests: created.map((r) => r.api) } : {}),
    events,
    duration_ms: durationMs,
  });
}

function postMalformed(ctx: RequestContext): Reply {
  const parsed = z
    .object({
      account_id: accountId,
      quantity: z.string().default("ten"),
      customer_id: z.string().min(1).optional(),
      mpn: z.string().min(1).optional(),
      webhooks: z.boolean().default(true),
    })
    .strict()
    .safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const w = worldOf(ctx, parsed.data.account_id);
  try {
    const r = w.placeMalformed({ customer_id: parsed.data.customer_id, mpn: parsed.data.mpn, quantity: parsed.data.quantity });
    const events = parsed.data.webhooks ? announceOrder(ctx.sb, w, r) : 0;
    return json(201, { account_id: w.id, id: r.api.id, request: r.api, events });
  } catch (e) {
    if (e instanceof OrderError) return bad(e.message);
    throw e;
  }
}

function postCatalog(ctx: RequestContext): Reply {
  const parsed = z
    .object({
      account_id: accountId,
      generate: z.number().int().min(1).max(100_000).optional(),
      update: z
        .object({
          mpn: z.string().min(1),
          name: z.string().min(1).optional(),
          description: z.string().optional(),
          unit_price: z.string().regex(/^\d+(\.\d{1,4})?$/, "a decimal string like \"5.10\"").optional(),
        })
        .strict()
        .optional(),
      webhooks: z.boolean().optional(),
    })
    .strict()
    .refine((b) => (b.generate ? 1 : 0) + (b.update ? 1 : 0) === 1, "give exactly one of generate or update")
    .safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const w = worldOf(ctx, parsed.data.account_id);
  const started = performance.now();
  if (parsed.data.generate) {
    const added = w.generateProducts(parsed.data.generate);
    let events = 0;
    if (parsed.data.webhooks) for (const p of added) events += announceProduct(ctx.sb, w, p, "product.created");
    return json(201, {
      account_id: w.id,
      added: added.length,
      total: w.products.length,
      first: added[0]?.api.id ?? null,
      last: added[added.length - 1]?.api.id ?? null,
      events,
      duration_ms: Math.round(performance.now() - started),
    });
  }
  const u = parsed.data.update;
  if (!u) return bad("nothing to do");
  try {
    const p = w.updateProduct(u.mpn, u);
    const events = parsed.data.webhooks === false ? 0 : announceProduct(ctx.sb, w, p, "product.updated");
    return json(200, { account_id: w.id, product: p.api, events });
  } catch (e) {
    if (e instanceof OrderError) return json(404, { error: "not_found", message: e.message });
    throw e;
  }
}

function postCustomer(ctx: RequestContext): Reply {
  const parsed = z
    .object({
      account_id: accountId,
      name: z.string().min(1).max(200),
      email: z.string().email(),
      currency: z.enum(["GBP", "EUR"]).default("GBP"),
      contact_name: z.string().max(200).optional(),
      phone: z.string().max(50).optional(),
      address: z.object({ line1: z.string(), city: z.string(), postal_code: z.string(), country: z.string().length(2) }).strict().optional(),
      tax_id: z.string().max(40).optional(),
      webhooks: z.boolean().default(true),
    })
    .strict()
    .safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const { account_id, webhooks, ...input } = parsed.data;
  const w = worldOf(ctx, account_id);
  const c = w.addCustomer(input);
  const events = webhooks ? announceCustomer(ctx.sb, w, c) : 0;
  return json(201, { account_id: w.id, customer: c.api, events });
}

/** Correct a customer (e.g. a name the plugin refused); `requests: true` also corrects its requests' snapshot. */
function updateCustomer(ctx: RequestContext): Reply {
  const parsed = z
    .object({
      account_id: accountId,
      customer_id: z.string().min(1),
      name: z.string().min(1).max(200).optional(),
      email: z.string().email().optional(),
      requests: z.boolean().default(true),
      webhooks: z.boolean().default(true),
    })
    .strict()
    .safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const { account_id, customer_id, name, email, requests, webhooks } = parsed.data;
  const w = worldOf(ctx, account_id);
  try {
    const changed = w.updateCustomer(customer_id, { name, email }, { requests });
    let events = 0;
    if (webhooks && w.installation) {
      if (changed.customer.announced) events += ctx.sb.webhooks.emit(w.id, "customer.updated", { customer: changed.customer.api }) ? 1 : 0;
      for (const r of changed.requests) events += announceOrder(ctx.sb, w, r, "order.updated");
    }
    return json(200, { account_id: w.id, customer: changed.customer.api, request_ids: changed.requests.map((r) => r.api.id), events });
  } catch (e) {
    if (e instanceof OrderError) return json(404, { error: "not_found", message: e.message });
    throw e;
  }
}

function touchRequest(ctx: RequestContext): Reply {
  const parsed = z.object({ account_id: accountId, request_id: z.string().min(1), webhooks: z.boolean().default(true) }).strict().safeParse(controlBody(ctx));
  if (!parsed.success) return bad(issuesMessage(parsed.error));
  const w = worldOf(ctx, parsed.data.account_id);
  try {
    const r = w.touchRequest(parsed.data.request_id);
    const events = parsed.data.webhooks ? announceOrder(ctx.sb, w, r, "order.updated") : 0;
    return json(200, { account_id: w.id, request: r.api, events });
  } catch (e) {
    if (e instanceof OrderError) return json(404, { error: "not_found", message: e.message });
    throw e;
  }
}

const c = { control: true };
export const marketplaceControlRoutes: Route[] = [
  route("GET", "/__sandbox/marketplace/state", "control.marketplace.state", state, c),
  route("GET", "/__sandbox/marketplace/deliveries", "control.marketplace.deliveries", deliveries, c),
  route("DELETE", "/__sandbox/marketplace/deliveries", "control.marketplace.deliveries.clear", (ctx) => {
    ctx.sb.webhooks.clearDeliveries();
    return json(200, { cleared: true });
  }, c),
  route("POST", "/__sandbox/marketplace/rotate-webhook-secret", "control.marketplace.rotate", rotate, c),
  route("POST", "/__sandbox/marketplace/end-rotation", "control.marketplace.end_rotation", endRotation, c),
  route("POST", "/__sandbox/marketplace/orders", "control.marketplace.orders", postOrders, c),
  route("POST", "/__sandbox/marketplace/malformed-order", "control.marketplace.malformed", postMalformed, c),
  route("POST", "/__sandbox/marketplace/catalog", "control.marketplace.catalog", postCatalog, c),
  route("POST", "/__sandbox/marketplace/customers", "control.marketplace.customers", postCustomer, c),
  route("POST", "/__sandbox/marketplace/update-customer", "control.marketplace.update_customer", updateCustomer, c),
  route("POST", "/__sandbox/marketplace/touch-request", "control.marketplace.touch", touchRequest, c),
];
