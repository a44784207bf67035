import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { actionLog, syncTasks, tenantSettings, tenants } from "@/db/schema";
import { SYSTEM_ACTOR, writeActionLog } from "@/lib/log/action-log";
import { newNotifications } from "@/lib/notifications/notifications";
import { DEFAULT_SETTINGS } from "@/lib/settings/settings";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

/** Pop-up notifications: what pops up after the cursor, by the tenant's Notifications setting. */
describe("newNotifications", () => {
  let t: TestDatabase;
  let tenantId: string;
  let otherTenantId: string;
  let taskId: string;

  const log = (level: "info" | "success" | "error" | "action_required", message: string, extra: { category?: "sync" | "mapping"; taskId?: string; details?: Record<string, unknown>; tenant?: string } = {}) =>
    writeActionLog(t.db, { tenantId: extra.tenant ?? tenantId, actor: SYSTEM_ACTOR, level, category: extra.category ?? "sync", message, taskId: extra.taskId ?? null, details: extra.details });
  const mode = (notifications: "errors_and_actions" | "all_tasks") =>
    t.db.insert(tenantSettings).values({ tenantId, ...DEFAULT_SETTINGS, notifications }).onConflictDoUpdate({ target: tenantSettings.tenantId, set: { notifications } });

  beforeAll(async () => {
    t = await openTestDatabase();
    const [a, b] = await t.db.insert(tenants).values([{ marketplaceAccountId: "RES-NOTE-1", name: "Notify Ltd" }, { marketplaceAccountId: "RES-NOTE-2", name: "Other Ltd" }]).returning();
    tenantId = a!.id;
    otherTenantId = b!.id;
    const [task] = await t.db
      .insert(syncTasks)
      .values({ tenantId, marketplaceOrderId: "PR-NOTE-1", marketplaceCustomerId: "TA-1", requestType: "purchase", orderType: "sales", order: {}, source: "push", orderCreatedAt: new Date() })
      .returning();
    taskId = task!.id;
  });
  afterAll(async () => t?.drop());

  it("the first poll shows nothing old and starts at the newest entry", async () => {
    await log("error", "an old failure");
    const first = await newNotifications(t.db, tenantId, {});
    expect(first.entries).toEqual([]);
    expect(first.cursor).toBeGreaterThan(0);
    expect(await newNotifications(t.db, tenantId, { after: first.cursor })).toMatchObject({ cursor: first.cursor, entries: [] });
  });

  it("errors and actions required: errors and actions pop up, successes and info do not; other tenants never", async () => {
    await mode("errors_and_actions");
    const { cursor } = await newNotifications(t.db, tenantId, {});
    await log("success", "Order PR-NOTE-1 synced: invoice SI-1", { taskId });
    await log("info", "Sage contact created");
    await log("action_required", "Order PR-NOTE-1: Map this product first", { taskId, details: { link: "/mapping/products?unmapped=1" } });
    await log("error", "someone else's failure", { tenant: otherTenantId });
    await log("error", "Order PR-NOTE-1 failed: Sage refused the document — currency_id: must match", { taskId });
    const page = await newNotifications(t.db, tenantId, { after: cursor });
    expect(page.mode).toBe("errors_and_actions");
    expect(page.entries.map((e) => [e.level, e.message, e.orderId, e.fixLink])).toEqual([
      ["action_required", "Order PR-NOTE-1: Map this product first", "PR-NOTE-1", "/mapping/products?unmapped=1"],
      ["error", "Order PR-NOTE-1 failed: Sage refused the document — currency_id: must match", "PR-NOTE-1", null],
    ]);
    expect(page.counts).toEqual({ action_required: 1, error: 1 });
    // the cursor moves past everything of this tenant, shown or not
    expect(await newNotifications(t.db, tenantId, { after: page.cursor })).toMatchObject({ entries: [], counts: {} });
  });

  it("all tasks: sync successes pop up too (not other categories' successes)", async () => {
    await mode("all_tasks");
    const { cursor } = await newNotifications(t.db, tenantId, {});
    await log("success", "Order PR-NOTE-1 synced: invoice SI-2", { taskId });
    await log("success", "Added to Sage and mapped", { category: "mapping" });
    const page = await newNotifications(t.db, tenantId, { after: cursor });
    expect(page.mode).toBe("all_tasks");
    expect(page.entries.map((e) => e.message)).toEqual(["Order PR-NOTE-1 synced: invoice SI-2"]);
  });

  it("a burst is counted, with at most 20 entries returned; entries older than 10 minutes never pop up", async () => {
    const { cursor } = await newNotifications(t.db, tenantId, {});
    for (let i = 0; i < 30; i++) await log("success", `Order PR-${i} synced`);
    await log("error", "an error");
    const page = await newNotifications(t.db, tenantId, { after: cursor });
    expect(page.counts).toEqual({ success: 30, error: 1 });
    expect(page.entries).toHaveLength(20);
    expect(page.entries[0]!.message).toBe("Order PR-0 synced");

    const { cursor: before } = await newNotifications(t.db, tenantId, {});
    await log("error", "stale");
    await t.db.execute(sql`update ${actionLog} set at = now() - interval '11 minutes' where message = 'stale'`);
    expect((await newNotifications(t.db, tenantId, { after: before })).entries).toEqual([]);
  });
});
