import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { syncTasks, tenants } from "@/db/schema";
import { syncProgress } from "@/lib/sync/dispatch";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

/** The Sync progress bar: a task synced again counts as finished only once the new run has handled it. */
describe("syncProgress", () => {
  let t: TestDatabase;
  let tenantId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await openTestDatabase();
    const [tenant] = await t.db.insert(tenants).values({ marketplaceAccountId: "RES-PROGRESS", name: "Progress Ltd" }).returning();
    tenantId = tenant!.id;
    const old = new Date(Date.now() - 60_000);
    for (const [name, state] of [["pending", "pending"], ["failed", "failed"], ["action", "action_required"]] as const) {
      const [row] = await t.db
        .insert(syncTasks)
        .values({ tenantId, marketplaceOrderId: `PR-${name}`, marketplaceCustomerId: "TA-1", requestType: "purchase", orderType: "sales", state, order: {}, source: "pull", orderCreatedAt: old, updatedAt: old })
        .returning();
      ids[name] = row!.id;
    }
  });
  afterAll(async () => t?.drop());

  it("without `since`, every task in a final state counts as finished", async () => {
    const p = await syncProgress(t.db, tenantId, Object.values(ids));
    expect(p).toMatchObject({ total: 3, finished: 2, done: false, counts: { pending: 1, failed: 1, action_required: 1 } });
  });

  it("with `since`, failed / action-required tasks from before the request are still to do", async () => {
    const since = new Date();
    expect(await syncProgress(t.db, tenantId, Object.values(ids), since)).toEqual({ total: 3, finished: 0, done: false, counts: { pending: 3 } });
    await t.db.update(syncTasks).set({ state: "synced", updatedAt: new Date(since.getTime() + 5) }).where(eq(syncTasks.id, ids.pending!));
    await t.db.update(syncTasks).set({ state: "failed", updatedAt: new Date(since.getTime() + 5) }).where(eq(syncTasks.id, ids.failed!));
    await t.db.update(syncTasks).set({ state: "processing", updatedAt: new Date(since.getTime() + 5) }).where(eq(syncTasks.id, ids.action!));
    expect(await syncProgress(t.db, tenantId, Object.values(ids), since)).toEqual({ total: 3, finished: 2, done: false, counts: { synced: 1, failed: 1, processing: 1 } });
    await t.db.update(syncTasks).set({ state: "action_required", updatedAt: new Date(since.getTime() + 10) }).where(eq(syncTasks.id, ids.action!));
    expect(await syncProgress(t.db, tenantId, Object.values(ids), since)).toEqual({ total: 3, finished: 3, done: true, counts: { synced: 1, failed: 1, action_required: 1 } });
  });
});
