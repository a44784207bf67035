import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, desc, eq } from "drizzle-orm";
import { actionLog, installations, orderWatermarks, syncTasks, tenants } from "@/db/schema";
import { decryptSecret } from "@/lib/crypto/envelope";
import { installFromMarketplace } from "@/lib/install/install";
import { marketplaceRequestSchema, type MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { checkChanges, oneMonthBefore, type OrderSource } from "@/lib/marketplace/check-changes";
import { MarketplaceApiError } from "@/lib/marketplace/client";
import { startWorld, type World } from "../helpers/world";
import { ensureWebhookSecret, intakeRunner, orderEvent, orderFixture, signed, type OrderFixture } from "./intake-helpers";

/** A marketplace order API in memory: `updated_since` inclusive, sorted by updated then id (as the contract says). */
function fakeMarketplace(orders: OrderFixture[], opts: { failAfter?: number } = {}) {
  const calls: { accountId: string; since?: Date }[] = [];
  const source: OrderSource = {
    async *orders(accountId, since) {
      calls.push({ accountId, since });
      const list = orders
        .filter((o) => o.account_id === accountId && (!since || new Date(o.updated) >= since))
        .sort((a, b) => a.updated.localeCompare(b.updated) || a.id.localeCompare(b.id));
      let n = 0;
      for (const o of list) {
        if (opts.failAfter !== undefined && n >= opts.failAfter) throw new MarketplaceApiError("Demo Reseller Marketplace: HTTP 503", 503, true);
        n += 1;
        yield marketplaceRequestSchema.parse(o) as MarketplaceRequestDto;
      }
    },
  };
  return { source, calls };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("Check Changes (pull)", () => {
  let world: World;
  let installationId: string;
  beforeAll(async () => {
    world = await startWorld();
    ({ installation: { id: installationId } } = await world.install());
  });
  afterAll(async () => world?.close());

  it("first check looks back one month from now; later checks start at the watermark (inclusive, deduped)", async () => {
    const now = new Date("2026-11-20T12:00:00Z");
    const old = orderFixture({ id: "PR-OLD", created: "2026-10-10T09:00:00Z" }); // more than a month ago
    const a = orderFixture({ id: "PR-A", created: "2026-10-25T09:00:00Z" });
    const b = orderFixture({ id: "PR-B", type: "change", created: "2026-11-19T09:00:00Z", items: [{ mpn: "M365-BASIC-M", quantity: "12", old_quantity: "10" }] });
    const orders = [old, a, b];
    const market = fakeMarketplace(orders);

    const first = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor, now, source: market.source });
    expect(market.calls[0]).toEqual({ accountId: "RES-1001", since: oneMonthBefore(now) });
    expect(oneMonthBefore(now).toISOString()).toBe("2026-10-20T12:00:00.000Z");
    expect(first).toMatchObject({ ok: true, newTasks: 2, alreadyKnown: 0, ordersRead: 2, message: "Check Changes: 2 new tasks, 0 already known.", watermark: "2026-11-19T09:00:00.000Z" });
    const ids = (await world.db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, world.tenantId))).map((t) => t.marketplaceOrderId).sort();
    expect(ids).toEqual(["PR-A", "PR-B"]);
    const [mark] = await world.db.db.select().from(orderWatermarks).where(eq(orderWatermarks.installationId, installationId));
    expect(mark!.watermark.toISOString()).toBe("2026-11-19T09:00:00.000Z");

    // a new order after the watermark; the order at the watermark is read again and simply known
    orders.push(orderFixture({ id: "PR-C", type: "billing", created: "2026-11-21T08:00:00Z", items: [{ mpn: "BACKUP-OVERAGE-GB", quantity: "7" }] }));
    const later = new Date("2026-11-21T09:00:00Z");
    const second = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor, now: later, source: market.source });
    expect(market.calls[1]!.since!.toISOString()).toBe("2026-11-19T09:00:00.000Z");
    expect(second).toMatchObject({ ok: true, newTasks: 1, alreadyKnown: 1, ordersRead: 2, message: "Check Changes: 1 new task, 1 already known.", watermark: "2026-11-21T08:00:00.000Z" });

    // nothing new: the watermark stays
    const third = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor, now: new Date("2026-11-22T09:00:00Z"), source: market.source });
    expect(third).toMatchObject({ newTasks: 0, alreadyKnown: 1, watermark: "2026-11-21T08:00:00.000Z" });

    // each check is in the Action Log (newest first)
    const logs = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), eq(actionLog.category, "sync"))).orderBy(desc(actionLog.id));
    const checks = logs.filter((l) => l.message.startsWith("Check Changes"));
    expect(checks.map((l) => l.message)).toEqual(["Check Changes: 0 new tasks, 1 already known.", "Check Changes: 1 new task, 1 already known.", "Check Changes: 2 new tasks, 0 already known."]);
    expect(checks[2]).toMatchObject({ actorType: "user", actorId: world.adminId, details: expect.objectContaining({ firstCheck: true, since: "2026-10-20T12:00:00.000Z" }) });
  });

  it("a marketplace failure halfway keeps what was read, moves the watermark only that far, and says so", async () => {
    const [tenant] = await world.db.db.insert(tenants).values({ marketplaceAccountId: "RES-3003", name: "Halfway Reseller" }).returning();
    await installFromMarketplace(world.db.db, { tenantId: tenant!.id, marketplaceId: "demo-marketplace", accountId: "RES-3003", actor: world.actor });
    const now = new Date();
    const orders = [1, 2, 3].map((n) => orderFixture({ id: `PR-H${n}`, accountId: "RES-3003", created: iso(now.getTime() - (10 - n) * 3600_000) }));
    const market = fakeMarketplace(orders, { failAfter: 2 });
    const result = await checkChanges(world.db.db, { tenantId: tenant!.id, actor: world.actor, now, source: market.source });
    expect(result).toMatchObject({ ok: false, newTasks: 2, watermark: new Date(orders[1]!.updated).toISOString() });
    expect(result.message).toBe("Check Changes stopped: Demo Reseller Marketplace: HTTP 503. 2 new tasks, 0 already known before that.");
    const [log] = await world.db.db.select().from(actionLog).where(eq(actionLog.tenantId, tenant!.id)).orderBy(desc(actionLog.id)).limit(1);
    expect(log).toMatchObject({ level: "error", category: "sync", message: result.message });
  });

  it("retries the webhook registration while the installation has no signing secret", async () => {
    // the install registered at the sandbox's marketplace, which issued this installation's secret
    const [installed] = await world.db.db.select().from(installations).where(eq(installations.id, installationId));
    expect(installed!.webhookSecretEncrypted).toBeTruthy();
    const issued = decryptSecret(installed!.webhookSecretEncrypted!);
    expect(issued).toMatch(/^whsec_/);
    await world.db.db.update(installations).set({ webhookSecretEncrypted: null }).where(eq(installations.id, installationId));
    const before = (await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), eq(actionLog.category, "install")))).map((l) => l.id);
    const result = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor, source: fakeMarketplace([]).source });
    // the marketplace (sandbox) is up and registration is idempotent per account: it answers the same
    // secret again, so the retry connects — exactly one "connected" row, and the secret is back
    expect(result.webhooks).toEqual({ ok: true });
    const added = (await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), eq(actionLog.category, "install")))).filter((l) => !before.includes(l.id));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ level: "success", message: "Marketplace events connected: new orders, customers and products are pushed to Sage Connector" });
    const [inst] = await world.db.db.select().from(installations).where(eq(installations.id, installationId));
    expect(decryptSecret(inst!.webhookSecretEncrypted!)).toBe(issued);
    // with a secret, no registration call
    await ensureWebhookSecret(world);
    const again = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor, source: fakeMarketplace([]).source });
    expect(again.webhooks).toBeUndefined();
  });

  it("push and pull of the same orders produce identical tasks", async () => {
    // tenant P gets the orders pushed (signed webhooks), tenant Q pulls them (Check Changes)
    const mk = async (account: string) => {
      const [t] = await world.db.db.insert(tenants).values({ marketplaceAccountId: account, name: `Reseller ${account}` }).returning();
      const { installation } = await installFromMarketplace(world.db.db, { tenantId: t!.id, marketplaceId: "demo-marketplace", accountId: account, actor: world.actor });
      return { tenantId: t!.id, installationId: installation.id };
    };
    const p = await mk("RES-4004");
    const q = await mk("RES-5005");
    const base = Date.now() - 3600_000;
    const shapes = (account: string) => [
      orderFixture({ id: "PR-S1", accountId: account, created: iso(base), items: [{ mpn: "M365-BASIC-M", quantity: "10" }, { mpn: "BACKUP-50GB", quantity: "1" }] }),
      orderFixture({ id: "PR-S2", accountId: account, type: "change", created: iso(base + 1000), items: [{ mpn: "M365-BASIC-M", quantity: "8", old_quantity: "10" }, { mpn: "M365-STANDARD-M", quantity: "2", old_quantity: "0" }] }),
      orderFixture({ id: "PR-S3", accountId: account, type: "billing", created: iso(base + 2000), items: [{ mpn: "BACKUP-OVERAGE-GB", quantity: "3.5" }] }),
      orderFixture({ id: "PR-S4", accountId: account, type: "cancel", created: iso(base + 3000), items: [{ mpn: "M365-BASIC-M", quantity: "0", old_quantity: "8" }, { mpn: "FEE-CANCEL", quantity: "1" }] }),
      orderFixture({ id: "PR-S5", accountId: account, type: "suspend", created: iso(base + 4000), items: [{ mpn: "M365-STANDARD-M", quantity: "2", old_quantity: "2" }] }),
      orderFixture({ id: "PR-S6", accountId: account, created: iso(base + 5000), items: [{ mpn: "YUBIKEY-5", quantity: "a few" }] }),
    ];

    const [pTenant] = await world.db.db.select().from(tenants).where(eq(tenants.id, p.tenantId));
    // the install registered P at the sandbox's marketplace: it holds the secret the marketplace issued
    const [instP] = await world.db.db.select().from(installations).where(eq(installations.id, p.installationId));
    expect(instP!.webhookSecretEncrypted).toBeTruthy();
    const secretP = decryptSecret(instP!.webhookSecretEncrypted!);
    expect(pTenant!.marketplaceAccountId).toBe("RES-4004");
    const intake = intakeRunner(world);
    try {
      for (const o of shapes("RES-4004")) expect((await intake.deliver(p.installationId, signed(secretP, orderEvent(o)))).status).toBe(202);
    } finally {
      await intake.stop();
    }
    const pulled = await checkChanges(world.db.db, { tenantId: q.tenantId, actor: world.actor, source: fakeMarketplace(shapes("RES-5005")).source });
    expect(pulled).toMatchObject({ ok: true, newTasks: 6 });

    const comparable = async (tenantId: string) =>
      (await world.db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, tenantId)).orderBy(syncTasks.marketplaceOrderId)).map((t) => ({
        order: t.marketplaceOrderId,
        customer: t.marketplaceCustomerId,
        requestType: t.requestType,
        orderType: t.orderType,
        state: t.state,
        reason: t.reason,
        reasonLink: t.reasonLink,
        items: t.items,
        currency: t.currency,
        billingPeriod: t.billingPeriod,
        orderCreatedAt: t.orderCreatedAt.toISOString(),
      }));
    const pushed = await comparable(p.tenantId);
    expect(pushed).toHaveLength(6);
    expect(await comparable(q.tenantId)).toEqual(pushed);
    expect(pushed.map((t) => t.state)).toEqual(["pending", "pending", "pending", "pending", "ignored", "action_required"]);
    const sources = await world.db.db.select({ s: syncTasks.source, t: syncTasks.tenantId }).from(syncTasks).where(eq(syncTasks.marketplaceOrderId, "PR-S1"));
    expect(sources.map((r) => (r.t === p.tenantId ? `P:${r.s}` : `Q:${r.s}`)).sort()).toEqual(["P:push", "Q:pull"]);

    // and pulling after a push finds nothing new for P
    const after = await checkChanges(world.db.db, { tenantId: p.tenantId, actor: world.actor, source: fakeMarketplace(shapes("RES-4004")).source });
    expect(after).toMatchObject({ newTasks: 0, alreadyKnown: 6 });
  });
});
