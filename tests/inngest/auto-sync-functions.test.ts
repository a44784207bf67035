import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { customerMappings, syncBatches, syncTasks } from "@/db/schema";
import { autoSyncEvery5Minutes, autoSyncTenant, syncSweeper } from "@/inngest/functions/auto-sync";
import { syncBatch } from "@/inngest/functions/sync-batch";
import { InlineRunner } from "@/inngest/inline-runner";
import { upsertMarketplaceCustomer } from "@/lib/marketplace/catalog";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * The auto-sync tick and the sweeper as they run in production: the real cron functions fire on
 * schedule in the inline runner, fan out with step.sendEvent (one event per tenant, a batch id per
 * sync) and the real sync-batch function writes to the Sage sandbox. Nothing of ours is called
 * directly: what is asserted is what landed in Sage and the runs the runner recorded.
 */
describe("auto-sync and sweeper functions (cron → fan-out → sync batch → Sage)", () => {
  let sw: SyncWorld;
  const AUTO = { id: "TA-CRON-AUTO", name: "Cron Auto Ltd", email: "ap@cron-auto.example", currency: "GBP" };
  const MANUAL = { id: "TA-CRON-MANUAL", name: "Cron Manual Ltd", email: "ap@cron-manual.example", currency: "GBP" };

  beforeAll(async () => {
    sw = await startSyncWorld();
    await sw.runner.stop(); // this test's runner (with the cron functions) does all the work
    for (const c of [AUTO, MANUAL]) {
      const id = await upsertMarketplaceCustomer(sw.db, sw.world.tenantId, { id: c.id, name: c.name, contact_info: { email: c.email }, currency: c.currency });
      await sw.db.insert(customerMappings).values({ tenantId: sw.world.tenantId, customerId: id, autoSync: c === AUTO });
    }
  });
  afterAll(async () => sw?.close());

  it("at the 5-minute tick: the tenant's toggled customers' pending tasks are invoiced once; others stay pending; a task stuck in processing is re-synced by the sweeper", async () => {
    await sw.settings({ autoSync: "every_5_minutes" });
    const auto1 = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2" }], { customer: AUTO });
    const auto2 = await sw.order("purchase", [{ mpn: "M365-BAS", quantity: "3" }], { customer: AUTO });
    const manual = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer: MANUAL });
    const stuck = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "7" }], { customer: MANUAL });
    await sw.db.update(syncTasks).set({ state: "processing", updatedAt: new Date(Date.now() - 11 * 60_000) }).where(eq(syncTasks.id, stuck.taskId));

    // a clock 300 ms before the next 5-minute boundary
    const tick = Math.ceil((Date.now() + 1_000) / 300_000) * 300_000;
    const offset = tick - 300 - Date.now();
    const runner = new InlineRunner({
      db: sw.db,
      functions: [autoSyncEvery5Minutes, autoSyncTenant, syncSweeper, syncBatch],
      now: () => new Date(Date.now() + offset),
      pollIntervalMs: 10,
      retryBaseDelayMs: 10,
      leaseMs: 5_000,
      logger: false,
    });
    runner.start();
    try {
      await runner.drain();
      await new Promise((r) => setTimeout(r, 400));
      await runner.drain({ includeScheduled: false, timeoutMs: 60_000 });
      const ticks = (await runner.listRuns({ functionId: "auto-sync-every-5-minutes" })).filter((r) => (r.event as { ts: number }).ts === tick);
      expect(ticks.map((t) => [t.status, t.output])).toEqual([["completed", { tenants: 1 }]]);
      const perTenant = await runner.listRuns({ functionId: "auto-sync-tenant" });
      expect(perTenant).toHaveLength(1);
      expect(perTenant[0]).toMatchObject({ status: "completed", event: { data: { tenantId: sw.world.tenantId } } });
      expect(perTenant[0]!.output).toMatchObject({ dispatched: 2 });
      const sweeps = (await runner.listRuns({ functionId: "sync-sweeper" })).filter((r) => (r.event as { ts: number }).ts === tick);
      expect(sweeps.map((s) => [s.status, s.output])).toEqual([["completed", { redispatched: 1, batches: 1 }]]);
      // every sync-batch event carries a batch id, never task ids
      const batchRuns = await runner.listRuns({ functionId: "sync-batch" });
      expect(batchRuns).toHaveLength(2);
      for (const r of batchRuns) {
        expect(r.status).toBe("completed");
        expect(Object.keys((r.event as { data: object }).data).sort()).toEqual(["batchId", "connectionId", "tenantId"]);
      }
    } finally {
      await runner.stop();
    }

    const state = await sw.sageState();
    const invoicesOf = (orderId: string) => state.sales_invoices.filter((i) => i.reference === orderId);
    expect(invoicesOf(auto1.orderId)).toHaveLength(1);
    expect(invoicesOf(auto2.orderId)).toHaveLength(1);
    expect(invoicesOf(stuck.orderId)).toHaveLength(1);
    expect(invoicesOf(manual.orderId)).toHaveLength(0);
    expect((await sw.task(manual.taskId)).state).toBe("pending");
    for (const t of [auto1, auto2, stuck]) expect((await sw.task(t.taskId)).state).toBe("synced");
    const batches = await sw.db.select().from(syncBatches).where(eq(syncBatches.tenantId, sw.world.tenantId));
    expect(batches.map((b) => [b.trigger, b.taskCount, b.status]).sort()).toEqual([
      ["auto_sync", 2, "completed"],
      ["sweeper", 1, "completed"],
    ]);
  });
});
