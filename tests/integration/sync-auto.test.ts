import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { customerMappings, syncTasks } from "@/db/schema";
import { marketplaceEventReceived } from "@/inngest/functions/marketplace-event-received";
import { upsertMarketplaceCustomer } from "@/lib/marketplace/catalog";
import { receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { autoSyncRequest, stuckTasks } from "@/lib/sync/dispatch";
import { ensureWebhookSecret, orderEvent, orderFixture, signed } from "./intake-helpers";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

describe("auto-sync", () => {
  let sw: SyncWorld;
  const AUTO = { id: "TA-AUTO", name: "Auto Customer Ltd", email: "ap@auto.example", currency: "GBP" };
  const MANUAL = { id: "TA-MANUAL", name: "Manual Customer Ltd", email: "ap@manual.example", currency: "GBP" };

  beforeAll(async () => {
    sw = await startSyncWorld();
    for (const c of [AUTO, MANUAL]) {
      const id = await upsertMarketplaceCustomer(sw.db, sw.world.tenantId, { id: c.id, name: c.name, contact_info: { email: c.email }, currency: c.currency });
      await sw.db.insert(customerMappings).values({ tenantId: sw.world.tenantId, customerId: id, autoSync: c === AUTO });
    }
  });
  afterAll(async () => sw?.close());

  async function deliver(customer: typeof AUTO) {
    const { installationId, secret } = await ensureWebhookSecret(sw.world);
    const order = orderFixture({ customer, items: [{ mpn: "M365-STD", quantity: "4", unit_price: "12.50" }] });
    const req = signed(secret, orderEvent(order));
    const res = await receiveMarketplaceWebhook(sw.db, { installationId, headers: req.headers, body: req.body }, { enqueue: async (webhookId, inst) => void (await sw.runner.send(marketplaceEventReceived(webhookId, inst))) });
    expect(res.status).toBe(202);
    return order.id;
  }
  async function invoiceFor(orderId: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await sw.sageState()).sales_invoices.filter((i) => i.reference === orderId);
      if (found.length || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("instant: an order pushed by the marketplace is in Sage moments later — only for customers with auto-sync on", async () => {
    await sw.settings({ autoSync: "instant" });
    const started = Date.now();
    const orderId = await deliver(AUTO);
    expect(await invoiceFor(orderId)).toHaveLength(1);
    console.log(`[sync-auto] instant: webhook → invoice in Sage in ${Date.now() - started} ms`);

    const manual = await deliver(MANUAL);
    await sw.runner.drain({ timeoutMs: 10_000 });
    expect(await invoiceFor(manual, 500)).toHaveLength(0);
    const [task] = await sw.db.select().from(syncTasks).where(eq(syncTasks.marketplaceOrderId, manual));
    expect(task!.state).toBe("pending");
  });

  it("with auto-sync off nothing is synced automatically; on a schedule only toggled customers' pending tasks qualify", async () => {
    await sw.settings({ autoSync: "off" });
    const off = await deliver(AUTO);
    await sw.runner.drain({ timeoutMs: 10_000 });
    expect(await invoiceFor(off, 300)).toHaveLength(0);
    expect(await autoSyncRequest(sw.db, sw.world.tenantId)).toBeNull();

    await sw.settings({ autoSync: "every_5_minutes" });
    const request = await autoSyncRequest(sw.db, sw.world.tenantId);
    const pending = await sw.db.select({ id: syncTasks.id, customer: syncTasks.marketplaceCustomerId }).from(syncTasks).where(eq(syncTasks.state, "pending"));
    expect(request!.taskIds.sort()).toEqual(pending.filter((p) => p.customer === AUTO.id).map((p) => p.id).sort());
    expect(pending.some((p) => p.customer === MANUAL.id)).toBe(true);
    await sw.syncAll(request!.taskIds);
    expect(await invoiceFor(off)).toHaveLength(1);
  });

  it("the sweeper finds tasks left processing after a crash", async () => {
    const { taskId } = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }]);
    await sw.db.update(syncTasks).set({ state: "processing", updatedAt: new Date(Date.now() - 11 * 60_000) }).where(eq(syncTasks.id, taskId));
    const stuck = await stuckTasks(sw.db, 10 * 60_000);
    expect(stuck.flatMap((s) => s.taskIds)).toContain(taskId);
    await sw.syncAll(stuck.flatMap((s) => s.taskIds));
    expect((await sw.task(taskId)).state).toBe("synced");
  });

});
