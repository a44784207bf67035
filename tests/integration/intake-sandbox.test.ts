import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { and, eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog, inboxEvents, installations, orderWatermarks, syncTasks } from "@/db/schema";
import { resetConfigForTests } from "@/lib/config";
import { decryptSecret, encryptSecret } from "@/lib/crypto/envelope";
import { checkChanges } from "@/lib/marketplace/check-changes";
import { startWorld, type World } from "../helpers/world";
import { setNotifications } from "./intake-helpers";

/**
 * Against the sandbox marketplace (its API and its Standard Webhooks sender): the sandbox posts
 * signed events over HTTP to a local bridge that calls our route handler, exactly as the app
 * would receive them; Check Changes reads the sandbox's /requests with the real client.
 */

type Bridge = { url: string; close: () => Promise<void>; dropNextResponses: (n: number) => void; received: () => number };

async function startBridge(): Promise<Bridge> {
  const { POST } = await import("@/app/api/marketplace/events/[installationId]/route");
  let drop = 0;
  let received = 0;
  const server = http.createServer(async (req, res) => {
    received += 1;
    const match = /^\/api\/marketplace\/events\/([^/?]+)/.exec(req.url ?? "");
    if (!match || req.method !== "POST") {
      res.writeHead(404).end();
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://bridge${req.url}`, { method: "POST", headers, body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } as RequestInit);
    const response = await POST(request, { params: Promise.resolve({ installationId: match[1]! }) });
    if (drop > 0) {
      // we processed it, but the marketplace never sees our answer: it must retry
      drop -= 1;
      res.writeHead(502).end();
      return;
    }
    res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
    dropNextResponses: (n) => {
      drop = n;
    },
    received: () => received,
  };
}

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("intake against the sandbox marketplace (real webhooks, real API)", () => {
  let world: World;
  let bridge: Bridge;
  let installationId: string;
  const ACCOUNT = "RES-1001";

  const control = async (path: string, body: unknown) => {
    const res = await fetch(`${world.sandbox.url}/__sandbox/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json as Record<string, unknown>;
  };
  let customerId = "";
  const placeOrders = async (orders: Array<Record<string, unknown>>, webhooks: boolean) =>
    (await control("marketplace/orders", { account_id: ACCOUNT, orders: orders.map((o) => (o.type === "purchase" ? { customer_id: customerId, ...o } : o)), webhooks })) as { ids: string[]; requests: Array<{ id: string; asset: { id: string; tiers: { customer: { id: string } } } }> };
  const tasks = () => world.db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, world.tenantId));
  const taskFor = (orderId: string) => until(async () => (await tasks()).find((t) => t.marketplaceOrderId === orderId), `task for ${orderId}`);
  const webhooksOn = (enabled: boolean) => control("config", { webhooks: { enabled, baseDelayMs: 100, maxDelayMs: 1000 } });

  beforeAll(async () => {
    world = await startWorld();
    bridge = await startBridge();
    process.env.APP_URL = bridge.url; // the webhook URL registered at install points at the bridge
    resetConfigForTests();
    setDatabaseHandleForTests(world.db);
    ({ installation: { id: installationId } } = await world.install());
    await setNotifications(world, "all_tasks");
    await webhooksOn(true);
    const state = await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/state?account=${ACCOUNT}`)).json();
    customerId = state.customers[0].id;
  });
  afterAll(async () => {
    const { resetInlineRunnerForTests } = await import("@/inngest/send");
    await resetInlineRunnerForTests();
    setDatabaseHandleForTests(undefined);
    await bridge?.close();
    await world?.close();
  });

  it("install registered our webhook URL and stored the marketplace's secret (encrypted)", async () => {
    const [inst] = await world.db.db.select().from(installations).where(eq(installations.id, installationId));
    expect(inst!.webhookSecretEncrypted).toMatch(/^v1\./);
    expect(decryptSecret(inst!.webhookSecretEncrypted!)).toMatch(/^whsec_/);
    const state = await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/state?account=${ACCOUNT}`)).json();
    expect(state.installation.webhook_url).toBe(`${bridge.url}/api/marketplace/events/${installationId}`);
  });

  it("an order placed in the marketplace arrives by push as a pending task", async () => {
    const placed = await placeOrders([{ type: "purchase", items: [{ mpn: "M365-BASIC-M", quantity: 7 }] }], true);
    const id = placed.ids[0]!;
    const task = await taskFor(id);
    expect(task).toMatchObject({ source: "push", state: "pending", orderType: "sales", requestType: "purchase" });
    expect(task.items).toEqual([expect.objectContaining({ mpn: "M365-BASIC-M", quantity: 7, change: "added" })]);
    const deliveries = (await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/deliveries?account=${ACCOUNT}&type=order.created`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(deliveries.at(-1)).toMatchObject({ outcome: "delivered", status: 202 });
  });

  it("a delivery whose answer is lost is retried by the marketplace (same webhook-id) → 200 duplicate, still one task", async () => {
    bridge.dropNextResponses(1);
    const placed = await placeOrders([{ type: "purchase", items: [{ mpn: "BACKUP-50GB", quantity: 3 }] }], true);
    const id = placed.ids[0]!;
    await taskFor(id);
    const deliveries = await until(async () => {
      const lines = (await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/deliveries?account=${ACCOUNT}&type=order.created`)).text()).trim().split("\n").map((l) => JSON.parse(l) as { event_id: string; outcome: string; status: number });
      const last = lines.at(-1)!;
      const mine = lines.filter((l) => l.event_id === last.event_id);
      return mine.some((l) => l.outcome === "delivered") ? mine : undefined;
    }, "the retried delivery");
    expect(deliveries.map((d) => [d.outcome, d.status])).toEqual([["retry", 502], ["delivered", 200]]);
    expect((await tasks()).filter((t) => t.marketplaceOrderId === id)).toHaveLength(1);
    expect(await world.db.db.select().from(inboxEvents).where(eq(inboxEvents.webhookId, deliveries[0]!.event_id))).toHaveLength(1);
  });

  it("during a secret rotation the marketplace signs with both secrets and we still verify", async () => {
    const rotated = await control("marketplace/rotate-webhook-secret", { account_id: ACCOUNT });
    expect(rotated.secrets).toBe(2);
    const placed = await placeOrders([{ type: "purchase", items: [{ mpn: "M365-STANDARD-M", quantity: 2 }] }], true);
    await taskFor(placed.ids[0]!);
    // the rotation ends once the plugin holds the new secret (handed over out of band)
    await world.db.db.update(installations).set({ webhookSecretEncrypted: encryptSecret(String(rotated.webhook_secret)) }).where(eq(installations.id, installationId));
    const during = await placeOrders([{ type: "purchase", items: [{ mpn: "M365-STANDARD-M", quantity: 3 }] }], true);
    await taskFor(during.ids[0]!);
    await control("marketplace/end-rotation", { account_id: ACCOUNT });
    const after = await placeOrders([{ type: "purchase", items: [{ mpn: "M365-STANDARD-M", quantity: 4 }] }], true);
    await taskFor(after.ids[0]!);
  });

  it("a malformed order (quantity “ten”) arrives as action_required naming the value", async () => {
    const malformed = await control("marketplace/malformed-order", { account_id: ACCOUNT, quantity: "ten" });
    const task = await taskFor(String(malformed.id));
    expect(task.state).toBe("action_required");
    expect(task.reason).toContain("“ten”");
    const log = await until(async () => (await world.db.db.select().from(actionLog).where(eq(actionLog.taskId, task.id)))[0], "log row");
    expect(log).toMatchObject({ level: "action_required", actorType: "marketplace" });
  });

  it("with webhooks off, orders arrive via Check Changes (paging through the API, 1100 orders)", async () => {
    await webhooksOn(false);
    try {
      const before = bridge.received();
      const gen = await control("marketplace/orders", { account_id: ACCOUNT, generate: { count: 1100, types: ["purchase", "change", "billing", "cancel", "suspend", "resume"] }, webhooks: true });
      expect(gen.count).toBe(1100);
      await new Promise((r) => setTimeout(r, 300));
      expect(bridge.received()).toBe(before);
      const knownBefore = (await tasks()).length;
      const result = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
      expect(result.message).toMatch(/^Check Changes: /);
      expect(result).toMatchObject({ ok: true, newTasks: 1100, alreadyKnown: knownBefore, ordersRead: knownBefore + 1100 });
      const state = await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/state?account=${ACCOUNT}`)).json();
      expect((await tasks()).length).toBe(state.counts.requests);
      const again = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
      expect(again.newTasks).toBe(0);
    } finally {
      await webhooksOn(true);
    }
  });

  it("push and pull of the same marketplace orders produce identical tasks", async () => {
    const [sub] = (await placeOrders([{ type: "purchase", items: [{ mpn: "M365-BASIC-M", quantity: 10 }] }], true)).requests;
    const subscription_id = sub!.asset.id;
    const more = await placeOrders(
      [
        { type: "change", subscription_id, items: [{ mpn: "M365-BASIC-M", quantity: 15 }] },
        { type: "change", subscription_id, items: [{ mpn: "M365-BASIC-M", quantity: 12 }] },
        { type: "suspend", subscription_id },
        { type: "resume", subscription_id },
        { type: "cancel", subscription_id, cancellation_fee: true },
      ],
      true,
    );
    const ids = [sub!.id, ...more.ids];
    for (const id of ids) await taskFor(id);
    const snapshot = async () =>
      (await world.db.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, world.tenantId)))).filter((t) => ids.includes(t.marketplaceOrderId)).sort((a, b) => a.marketplaceOrderId.localeCompare(b.marketplaceOrderId)).map((t) => ({
        order: t.marketplaceOrderId, customer: t.marketplaceCustomerId, requestType: t.requestType, orderType: t.orderType, state: t.state, reason: t.reason, items: t.items, currency: t.currency, billingPeriod: t.billingPeriod, orderCreatedAt: t.orderCreatedAt.toISOString(), source: t.source,
      }));
    const pushed = await snapshot();
    expect(pushed.map((t) => t.source)).toEqual(ids.map(() => "push"));
    expect(pushed.map((t) => [t.requestType, t.state])).toEqual(expect.arrayContaining([["purchase", "pending"], ["change", "pending"], ["suspend", "ignored"], ["resume", "ignored"], ["cancel", "pending"]]));
    const downgrade = pushed.find((t) => t.order === more.ids[1]);
    expect(downgrade!.items[0]).toMatchObject({ oldQuantity: 15, quantity: 12, change: "downgrade", delta: -3 });

    // forget them and read them again with Check Changes
    await world.db.db.delete(syncTasks).where(and(eq(syncTasks.tenantId, world.tenantId)));
    await world.db.db.delete(orderWatermarks).where(eq(orderWatermarks.installationId, installationId));
    const pulled = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect(pulled.message).toMatch(/^Check Changes: /);
    const again = await snapshot();
    expect(again.map((t) => t.source)).toEqual(ids.map(() => "pull"));
    expect(again.map(({ source: _s, ...t }) => t)).toEqual(pushed.map(({ source: _s, ...t }) => t));
  });
});
