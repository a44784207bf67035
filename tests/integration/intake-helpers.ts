import { randomBytes, randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { setDatabaseHandleForTests } from "@/db/client";
import { installations, tenantSettings } from "@/db/schema";
import { marketplaceEventReceived, marketplaceEventReceivedFn } from "@/inngest/functions/marketplace-event-received";
import { InlineRunner } from "@/inngest/inline-runner";
import { decryptSecret, encryptSecret } from "@/lib/crypto/envelope";
import { receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { DEFAULT_SETTINGS } from "@/lib/settings/settings";
import type { World } from "../helpers/world";

/** Test helpers for the marketplace intake (push: signed webhooks; pull: Check Changes). */

export type OrderItemFixture = { mpn: string; quantity: string; old_quantity?: string; name?: string; unit_price?: string };

let seq = 0;
export function orderFixture(opts: {
  id?: string;
  type?: "purchase" | "change" | "suspend" | "resume" | "cancel" | "billing";
  items?: OrderItemFixture[];
  customer?: { id: string; name: string; email?: string; currency?: string };
  created?: string;
  updated?: string;
  accountId?: string;
} = {}) {
  seq += 1;
  const created = opts.created ?? new Date(Date.now() - 60_000).toISOString();
  const customer = opts.customer ?? { id: "TA-1001-0001", name: "Contoso Ltd", email: "billing@contoso.example", currency: "GBP" };
  return {
    id: opts.id ?? `PR-TEST-${Date.now()}-${seq}`,
    type: opts.type ?? "purchase",
    status: "approved",
    created,
    updated: opts.updated ?? created,
    currency: customer.currency ?? "GBP",
    billing_period: "monthly",
    asset: {
      id: `AS-${seq}`,
      external_id: "1001000",
      product: { id: "CN-783-317-575", name: "Microsoft 365" },
      items: (opts.items ?? [{ mpn: "M365-BASIC-M", quantity: "10", old_quantity: "0", name: "Microsoft 365 Business Basic (monthly)", unit_price: "5.10" }]).map((i, n) => ({
        id: `PRD-100-00${n + 1}`,
        old_quantity: "0",
        ...i,
      })),
      tiers: { customer: { id: customer.id, name: customer.name, contact_info: { email: customer.email ?? null }, currency: customer.currency ?? "GBP" } },
    },
    marketplace: { id: "demo-marketplace" },
    account_id: opts.accountId ?? "RES-1001",
  };
}

export type OrderFixture = ReturnType<typeof orderFixture>;

export function orderEvent(order: OrderFixture, type: "order.created" | "order.updated" = "order.created") {
  return { type, timestamp: new Date().toISOString(), data: { installation_id: "EIN-TEST", account_id: order.account_id, request: order } };
}

/** The installation's webhook secret: the one the marketplace issued at install, or a fresh one set here. */
export async function ensureWebhookSecret(world: World): Promise<{ installationId: string; secret: string }> {
  const [inst] = await world.db.db.select().from(installations).where(eq(installations.tenantId, world.tenantId));
  if (!inst) throw new Error("install first");
  if (inst.webhookSecretEncrypted) return { installationId: inst.id, secret: decryptSecret(inst.webhookSecretEncrypted) };
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  await world.db.db.update(installations).set({ webhookSecretEncrypted: encryptSecret(secret), marketplaceInstallationId: "EIN-TEST" }).where(eq(installations.id, inst.id));
  return { installationId: inst.id, secret };
}

/** Headers + body exactly as a Standard Webhooks sender makes them. */
export function signed(secret: string, body: string | object, opts: { id?: string; at?: Date; extraSignatures?: string[]; signature?: string } = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const at = opts.at ?? new Date();
  const signature = opts.signature ?? new Webhook(secret).sign(id, at, text);
  const headers = new Headers({
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": [...(opts.extraSignatures ?? []), signature].join(" "),
  });
  return { id, headers, body: text };
}

/** An inline runner with the intake function on the world's database, plus a `deliver` shortcut. */
export function intakeRunner(world: World) {
  setDatabaseHandleForTests(world.db);
  const runner = new InlineRunner({ db: world.db.db, functions: [marketplaceEventReceivedFn], pollIntervalMs: 20, leaseMs: 2_000, retryBaseDelayMs: 50, logger: false });
  runner.start();
  const deps = {
    enqueue: async (webhookId: string, installationId: string) => {
      await runner.send(marketplaceEventReceived(webhookId, installationId));
    },
  };
  return {
    runner,
    deps,
    async deliver(installationId: string, req: { headers: Headers; body: string | Uint8Array | ReadableStream<Uint8Array> | null }) {
      const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: req.headers, body: req.body }, deps);
      await runner.drain();
      return res;
    },
    async stop() {
      await runner.stop();
      setDatabaseHandleForTests(undefined);
    },
  };
}

export async function setNotifications(world: World, notifications: "errors_and_actions" | "all_tasks") {
  const values = { ...DEFAULT_SETTINGS, notifications };
  await world.db.db
    .insert(tenantSettings)
    .values({ tenantId: world.tenantId, ...values, confirmedAt: new Date() })
    .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { notifications } });
}
