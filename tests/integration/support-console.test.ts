import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionLog, tenants, users } from "@/db/schema";
import type { SessionUser } from "@/lib/auth/session-user";
import { issueViewAsToken, verifyViewAsToken } from "@/lib/auth/view-as";
import { supportSearch, supportSearchSchema } from "@/lib/support/search";
import { supportTenantOverview } from "@/lib/support/tenant-overview";
import { logSupportRefusal, startViewAs, ViewAsError } from "@/lib/support/view-as";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * The support console's reads and "view as": the search finds an order by each thing support gets
 * asked about, the tenant page shows what happened, and a view-as grant is bound to one support user,
 * one session and one hour.
 */
let w: SyncWorld;
let support: SessionUser;
let otherTenantId: string;
let synced: { orderId: string; taskId: string };
let pending: { orderId: string; taskId: string };

beforeAll(async () => {
  w = await startSyncWorld();
  const [row] = await w.db.select().from(users).where(eq(users.role, "support"));
  support = { id: row!.id, email: row!.email, name: row!.name, role: "support", tenantId: null, via: "password", sessionVersion: row!.sessionVersion };
  const [other] = await w.db.insert(tenants).values({ marketplaceAccountId: "RES-7777", name: "Fabrikam Reseller Ltd" }).returning();
  otherTenantId = other!.id;
  synced = await w.order("purchase", [{ mpn: "M365-STD", quantity: "3" }]);
  pending = await w.order("purchase", [{ mpn: "M365-BAS", quantity: "1" }], { customer: { id: "TA-9002", name: "Northwind Traders Ltd", email: "ap@northwind.example" } });
  await w.sync([synced.taskId]);
  expect((await w.task(synced.taskId)).state).toBe("synced");
}, 120_000);

afterAll(async () => w?.close());

describe("support search (across tenants)", () => {
  it("finds the order by its marketplace order id, with its tenant", async () => {
    const r = await supportSearch(w.db, synced.orderId);
    expect(r.orders.map((o) => [o.taskId, o.tenantId, o.marketplaceOrderId, o.matchedBy])).toEqual([[synced.taskId, w.world.tenantId, synced.orderId, "marketplace order id"]]);
    expect(r.orders[0]!.customerName).toBe("Contoso Cloud Ltd");
  });

  it("finds the order by the Sage invoice it produced (its number) and by the customer's name", async () => {
    const [invoice] = (await w.documents(synced.taskId)).filter((d) => d.kind === "sales_invoice");
    expect(invoice?.displayedAs).toBeTruthy();
    const byNumber = await supportSearch(w.db, invoice!.displayedAs!);
    expect(byNumber.orders.map((o) => [o.taskId, o.matchedBy])).toEqual([[synced.taskId, "Sage document"]]);
    const bySageId = await supportSearch(w.db, invoice!.sageId);
    expect(bySageId.orders.map((o) => o.taskId)).toEqual([synced.taskId]);
    const byCustomer = await supportSearch(w.db, "northwind traders");
    expect(byCustomer.orders.map((o) => [o.taskId, o.matchedBy])).toEqual([[pending.taskId, "customer name"]]);
    const byCustomerId = await supportSearch(w.db, "TA-9002");
    expect(byCustomerId.orders.map((o) => [o.taskId, o.matchedBy])).toEqual([[pending.taskId, "customer id"]]);
  });

  it("finds tenants by name, marketplace account and Sage business; a pattern character is literal", async () => {
    const [demo] = await w.db.select().from(tenants).where(eq(tenants.id, w.world.tenantId));
    expect((await supportSearch(w.db, demo!.marketplaceAccountId)).tenants.map((t) => [t.tenantId, t.matchedBy])).toEqual([[w.world.tenantId, "marketplace account"]]);
    expect((await supportSearch(w.db, "fabrikam reseller")).tenants.map((t) => [t.tenantId, t.matchedBy])).toEqual([[otherTenantId, "tenant name"]]);
    const connection = (await w.world.connection())!;
    const byBusiness = await supportSearch(w.db, connection.businessName!.slice(0, 8));
    expect(byBusiness.tenants.map((t) => t.tenantId)).toContain(w.world.tenantId);
    expect(await supportSearch(w.db, "%%")).toEqual({ tenants: [], orders: [] });
    expect(supportSearchSchema.safeParse({ q: "x" }).success).toBe(false);
    expect(supportSearchSchema.safeParse({ q: "a\u0000b" }).success).toBe(false);
  });
});

describe("tenant page", () => {
  it("shows the connection, its token age and last sync, and task counts by state", async () => {
    const o = (await supportTenantOverview(w.db, w.world.tenantId))!;
    expect(o.taskCounts.synced).toBe(1);
    expect(o.taskCounts.pending).toBe(1);
    expect(o.connections).toHaveLength(1);
    const c = o.connections[0]!;
    expect(c.status).toBe("connected");
    expect(c.tokenAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(c.tokenAgeSeconds).toBeLessThan(600);
    expect(c.lastSyncAt?.getTime()).toBe((await w.task(synced.taskId)).syncedAt!.getTime());
    expect(o.mappings.products).toEqual({ total: 3, mapped: 2, unmapped: 1 });
    expect(JSON.stringify(o)).not.toMatch(/credentials|access_token|refresh_token/i);
    expect(await supportTenantOverview(w.db, "00000000-0000-4000-8000-000000000000")).toBeNull();
  });
});

describe("view as", () => {
  it("a grant is bound to its support user, their session version, its tenant and one hour", async () => {
    const { token } = await issueViewAsToken(support, w.world.tenantId);
    expect(await verifyViewAsToken(support, token)).toMatchObject({ tenantId: w.world.tenantId });
    // another support user, a later session (signed out since), a reseller, an hour later, a tampered token
    expect(await verifyViewAsToken({ ...support, id: "11111111-1111-4111-8111-111111111111" }, token)).toBeNull();
    expect(await verifyViewAsToken({ ...support, sessionVersion: support.sessionVersion + 1 }, token)).toBeNull();
    expect(await verifyViewAsToken({ ...support, role: "reseller_admin", tenantId: w.world.tenantId }, token)).toBeNull();
    const old = await issueViewAsToken(support, w.world.tenantId, new Date(Date.now() - 61 * 60_000));
    expect(await verifyViewAsToken(support, old.token)).toBeNull();
    expect(await verifyViewAsToken(support, `${token.slice(0, -2)}xx`)).toBeNull();
  });

  it("opening a view is logged in the tenant's Action Log; only support may; an unknown tenant is refused", async () => {
    await startViewAs(w.db, { user: support, tenantId: w.world.tenantId });
    const rows = await w.db.select().from(actionLog).where(and(eq(actionLog.tenantId, w.world.tenantId), eq(actionLog.category, "support")));
    expect(rows.map((r) => [r.actorType, r.actorId, r.level])).toEqual([["support", support.id, "info"]]);
    expect(rows[0]!.actorLabel).toBe(`${support.name} <${support.email}> (support, view as)`);
    await expect(startViewAs(w.db, { user: { ...support, role: "reseller_admin", tenantId: w.world.tenantId }, tenantId: w.world.tenantId })).rejects.toThrow(ViewAsError);
    await expect(startViewAs(w.db, { user: support, tenantId: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({ status: 404 });
  });

  it("a refused write is one warning row saying what support tried", async () => {
    const before = await w.db.select().from(actionLog).where(eq(actionLog.tenantId, otherTenantId));
    await logSupportRefusal(w.db, { user: support, tenantId: otherTenantId, attempted: "call POST /api/tasks/ignore" });
    const after = await w.db.select().from(actionLog).where(eq(actionLog.tenantId, otherTenantId));
    expect(after.length - before.length).toBe(1);
    const row = after.at(-1)!;
    expect([row.level, row.category, row.actorType, row.details]).toEqual(["warning", "support", "support", { attempted: "call POST /api/tasks/ignore", viewAs: true }]);
    expect(row.message).toMatch(/^Refused: support tried to call POST \/api\/tasks\/ignore\. /);
  });
});
