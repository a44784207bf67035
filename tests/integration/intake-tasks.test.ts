import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray } from "drizzle-orm";
import { ZodError } from "zod";
import { actionLog, syncTasks } from "@/db/schema";
import { marketplaceRequestSchema } from "@/lib/marketplace/api-schemas";
import { recordOrder } from "@/lib/tasks/record-order";
import { ignoreTasks, listTasks, taskListQuerySchema, TaskActionError, unignoreTasks } from "@/lib/tasks/tasks";
import { SUSPEND_RESUME_REASON } from "@/lib/tasks/order-to-task";
import { startWorld, type World } from "../helpers/world";
import { orderFixture } from "./intake-helpers";

describe("tasks: list, ignore, un-ignore", () => {
  let world: World;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    world = await startWorld();
    await world.install();
    const customers = [
      { id: "TA-1001-0001", name: "Contoso Ltd" },
      { id: "TA-1001-0002", name: "Fabrikam Ireland Ltd", currency: "EUR" },
    ];
    const orders = [
      orderFixture({ id: "PR-L01", customer: customers[0] }),
      orderFixture({ id: "PR-L02", type: "change", customer: customers[0], items: [{ mpn: "M365-BASIC-M", quantity: "5", old_quantity: "10" }] }),
      orderFixture({ id: "PR-L03", type: "billing", customer: customers[1], items: [{ mpn: "BACKUP-OVERAGE-GB", quantity: "9" }] }),
      orderFixture({ id: "PR-L04", type: "cancel", customer: customers[1], items: [{ mpn: "M365-BASIC-M", quantity: "0", old_quantity: "5" }] }),
      orderFixture({ id: "PR-L05", type: "suspend", customer: customers[1] }),
      orderFixture({ id: "PR-L06", customer: customers[1], items: [{ mpn: "YUBIKEY-5", quantity: "lots" }] }),
    ];
    for (let n = 7; n <= 30; n += 1) orders.push(orderFixture({ id: `PR-L${String(n).padStart(2, "0")}`, customer: customers[n % 2]! }));
    for (const o of orders) {
      const r = await world.db.db.transaction((tx) => recordOrder(tx, { tenantId: world.tenantId, order: marketplaceRequestSchema.parse(o), source: "pull", actor: world.actor }));
      ids[o.id] = r.taskId;
    }
  });
  afterAll(async () => world?.close());

  const task = async (orderId: string) => (await world.db.db.select().from(syncTasks).where(eq(syncTasks.id, ids[orderId]!)))[0]!;
  const logsFor = (orderId: string) => world.db.db.select().from(actionLog).where(eq(actionLog.taskId, ids[orderId]!)).orderBy(actionLog.id);

  it("filters by state and order type, searches order id and customer, pages on the server, counts per state", async () => {
    const all = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({}));
    expect(all.total).toBe(30);
    expect(all.tasks).toHaveLength(25);
    expect(all.counts).toEqual({ pending: 28, processing: 0, synced: 0, action_required: 1, failed: 0, ignored: 1 });
    const page2 = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ page: "2" }));
    expect(page2.tasks).toHaveLength(5);
    expect(new Set([...all.tasks, ...page2.tasks].map((t) => t.id)).size).toBe(30);

    const billing = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ type: "billing" }));
    expect(billing.tasks.map((t) => t.marketplaceOrderId)).toEqual(["PR-L03"]);
    const actionRequired = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ state: "action_required" }));
    expect(actionRequired.tasks).toEqual([expect.objectContaining({ marketplaceOrderId: "PR-L06", reason: expect.stringContaining("“lots”") })]);
    const byOrder = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ q: "pr-l0" }));
    expect(byOrder.total).toBe(9);
    const byCustomer = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ q: "fabrikam", type: "sales" }));
    expect(byCustomer.tasks.every((t) => t.customerName === "Fabrikam Ireland Ltd" && t.orderType === "sales")).toBe(true);
    expect(byCustomer.total).toBe(13);
    const wildcard = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ q: "%" }));
    expect(wildcard.total).toBe(0);
  });

  it("bad filters are refused with messages that name them", () => {
    const bad = taskListQuerySchema.safeParse({ state: "done", type: "refund", page: "0", pageSize: "1000" });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => i.message).join(" | ");
    expect(messages).toContain("state must be one of pending, processing, synced, action_required, failed, ignored");
    expect(messages).toContain("type must be one of sales, change, billing, cancellation");
    expect(messages).toContain("page starts at 1");
    expect(messages).toContain("pageSize is at most 100");
  });

  it("ignore one or many (reason required) and un-ignore them back to pending, each step in the Action Log", async () => {
    await expect(ignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L01"]!], reason: "  ", actor: world.actor })).rejects.toBeInstanceOf(ZodError);
    expect((await task("PR-L01")).state).toBe("pending");

    const result = await ignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L01"]!, ids["PR-L02"]!, ids["PR-L06"]!], reason: "Billed by hand in October", actor: world.actor });
    expect(result).toEqual({ ignored: 3 });
    for (const o of ["PR-L01", "PR-L02", "PR-L06"]) {
      expect(await task(o)).toMatchObject({ state: "ignored", reason: "Billed by hand in October", ignoredBy: world.actor.label, ignoredAt: expect.any(Date) });
    }
    expect((await logsFor("PR-L01")).at(-1)).toMatchObject({ actorType: "user", actorId: world.adminId, level: "info", category: "sync", message: "Sales task for order PR-L01 ignored: Billed by hand in October" });

    const ignored = await listTasks(world.db.db, world.tenantId, taskListQuerySchema.parse({ state: "ignored" }));
    expect(ignored.tasks.map((t) => [t.marketplaceOrderId, t.canUnignore]).sort()).toEqual([["PR-L01", true], ["PR-L02", true], ["PR-L05", false], ["PR-L06", true]]);

    const back = await unignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L01"]!, ids["PR-L02"]!, ids["PR-L06"]!], actor: world.actor });
    expect(back).toEqual({ unignored: 3, pending: 2, actionRequired: 1 });
    expect(await task("PR-L01")).toMatchObject({ state: "pending", reason: null, ignoredAt: null, ignoredBy: null });
    expect(await task("PR-L02")).toMatchObject({ state: "pending" });
    // an order that is itself unusable goes back to "action required", not to "pending"
    expect(await task("PR-L06")).toMatchObject({ state: "action_required", reason: expect.stringContaining("“lots”") });
    expect((await logsFor("PR-L01")).map((l) => l.message)).toEqual(["Sales task for order PR-L01 ignored: Billed by hand in October", "Sales task for order PR-L01 un-ignored: pending again"]);
    expect((await logsFor("PR-L06")).at(-1)).toMatchObject({ level: "action_required", message: expect.stringContaining("un-ignored, and still needs action") });
  });

  it("wrong state, suspensions, unknown or other tenants' tasks: refused with a message, nothing changed, nothing logged", async () => {
    const logCount = async () => (await world.db.db.select().from(actionLog)).length;
    const before = await logCount();
    await world.db.db.update(syncTasks).set({ state: "synced" }).where(eq(syncTasks.id, ids["PR-L07"]!));

    const err1 = await ignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L08"]!, ids["PR-L07"]!], reason: "x", actor: world.actor }).catch((e) => e);
    expect(err1).toBeInstanceOf(TaskActionError);
    expect(err1.message).toContain("PR-L07 is synced");
    expect((await task("PR-L08")).state).toBe("pending");

    const err2 = await unignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L05"]!], actor: world.actor }).catch((e) => e);
    expect(err2).toBeInstanceOf(TaskActionError);
    expect(err2.message).toContain("stay ignored");
    expect(await task("PR-L05")).toMatchObject({ state: "ignored", reason: SUSPEND_RESUME_REASON });

    const err3 = await unignoreTasks(world.db.db, { tenantId: world.tenantId, ids: [ids["PR-L09"]!], actor: world.actor }).catch((e) => e);
    expect(err3.message).toContain("Only ignored tasks can be un-ignored");

    const err4 = await ignoreTasks(world.db.db, { tenantId: "00000000-0000-4000-8000-000000000000", ids: [ids["PR-L09"]!], reason: "not yours", actor: world.actor }).catch((e) => e);
    expect(err4).toMatchObject({ status: 404 });
    expect((await task("PR-L09")).state).toBe("pending");

    expect(await logCount()).toBe(before);
    const pendingLeft = await world.db.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, world.tenantId), inArray(syncTasks.state, ["ignored"])));
    expect(pendingLeft.map((t) => t.marketplaceOrderId)).toEqual(["PR-L05"]);
  });
});
