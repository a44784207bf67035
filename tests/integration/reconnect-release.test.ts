import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray, sql } from "drizzle-orm";
import { actionLog, syncTasks } from "@/db/schema";
import { syncTasksPerStep } from "@/lib/sync/batches";
import { prepareSyncRequest } from "@/lib/sync/dispatch";
import { RECONNECT_HALT_LINK, RECONNECT_HALT_REASON } from "@/lib/sync/reconnect-halt";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Issue #10 (b): a refresh token revoked mid-sync halts the run on reconnect_required; the tasks it
 * left `processing` are marked, and the reseller's Reconnect (the real OAuth round trip) releases
 * exactly those back to `pending` in the same transaction — Sync all has them at once, not after
 * the 10-minute sweeper — and syncing them again writes nothing twice.
 */
describe("Reconnect releases tasks halted by reconnect_required", () => {
  let sw: SyncWorld;
  const ORDERS = 130; // the first step's slice (100) is halted mid-way; the other 30 were never claimed
  const REVOKE_AFTER = 30; // invoices written before the refresh token is revoked
  let tasks: { orderId: string; taskId: string }[] = [];
  let halted: string[] = [];

  const invoiceCount = async () => {
    const { businesses } = (await (await fetch(`${sw.world.sandbox.url}/__sandbox/state`)).json()) as { businesses: { id: string; counts: { sales_invoices?: number } }[] };
    return businesses.find((b) => b.id === sw.businessId)?.counts.sales_invoices ?? 0;
  };
  const states = async (ids: string[]) =>
    (await sw.db.select({ state: syncTasks.state, n: sql<number>`count(*)::int` }).from(syncTasks).where(inArray(syncTasks.id, ids)).groupBy(syncTasks.state)).reduce<Record<string, number>>(
      (acc, r) => ({ ...acc, [r.state]: Number(r.n) }),
      {},
    );

  beforeAll(async () => {
    // Sage's 200 a minute over a long window: 100 tasks per step (as at Sage's limit), and no pacing here
    process.env.SAGE_RATE_LIMIT = "20000/6000";
    expect(syncTasksPerStep()).toBe(100);
    sw = await startSyncWorld();
    await sw.settings({});
    await sw.world.control("config", { rateLimit: { limit: 100000, windowSeconds: 60, retryAfter: true } });
    for (let i = 0; i < ORDERS; i++) {
      const customer = { id: `TA-R${i % 10}`, name: `Reconnect Customer ${i % 10}`, email: `ap${i % 10}@reconnect.example` };
      tasks.push(await sw.order("purchase", [{ mpn: i % 2 ? "M365-STD" : "M365-BAS", quantity: String(1 + (i % 5)) }], { customer }));
    }
  }, 120_000);
  afterAll(async () => sw?.close());

  it("a refresh token revoked mid-sync halts the run; the tasks it left processing are marked", async () => {
    const baseline = await invoiceCount();
    // every invoice create takes a moment, so the revoke lands in the middle of the run
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "delay", delayMs: 25 });
    let revoked: { revoked: number } | null = null;
    const watcher = (async () => {
      for (let i = 0; i < 3000 && !revoked; i++) {
        if ((await invoiceCount()) - baseline >= REVOKE_AFTER) {
          revoked = (await sw.world.control("sage/revoke-refresh-tokens")) as { revoked: number };
          await sw.world.control("sage/expire-access-tokens");
        } else await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await sw.syncAll(tasks.map((t) => t.taskId));
    await watcher;
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    // the revoke really fired mid-sync, and Sage then refused the refresh
    expect(revoked).not.toBeNull();
    expect(revoked!.revoked).toBeGreaterThanOrEqual(1);
    const tokenCalls = (await sw.world.requestLog()).filter((l) => l.route === "sage.token" && l.grant_type === "refresh_token");
    expect(tokenCalls.map((l) => l.status)).toContain(400);
    expect((await sw.world.connection())!.status).toBe("reconnect_required");

    const state = await sw.sageState();
    const refs = new Set(tasks.map((t) => t.orderId));
    const written = state.sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    const synced = (await sw.db.select({ id: syncTasks.id }).from(syncTasks).where(and(inArray(syncTasks.id, tasks.map((t) => t.taskId)), eq(syncTasks.state, "synced")))).length;
    // mid-sync: some written, not all of the first slice; what Sage has is what we recorded
    expect(written.length).toBeGreaterThanOrEqual(REVOKE_AFTER);
    expect(written.length).toBeLessThan(100);
    expect(synced).toBe(written.length);

    const rows = await sw.db.select().from(syncTasks).where(inArray(syncTasks.id, tasks.map((t) => t.taskId)));
    halted = rows.filter((r) => r.state === "processing").map((r) => r.id);
    expect(await states(tasks.map((t) => t.taskId))).toEqual({ synced, processing: 100 - synced, pending: ORDERS - 100 });
    // identifiable: every task the halted run left processing carries the halt reason and link
    expect(rows.filter((r) => r.state === "processing").every((r) => r.reason === RECONNECT_HALT_REASON && r.reasonLink === RECONNECT_HALT_LINK)).toBe(true);
    const haltRows = await sw.db.select().from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), sql`${actionLog.details}->>'op' = 'sync_halted_reconnect'`));
    expect(haltRows.map((r) => r.message)).toEqual([
      `Sync halted: Sage refused the connection's authorization. ${100 - synced} tasks wait for Reconnect (dashboard); they are released to sync again as soon as Sage is reconnected.`,
    ]);
    // the run gave up: its onFailure (a run of its own, after the failed run ended) says where Sync all stopped
    let stopped: string[] = [];
    for (let i = 0; i < 200 && stopped.length === 0; i++) {
      stopped = (await sw.db.select({ message: actionLog.message }).from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), sql`${actionLog.message} like 'Sync all stopped after %'`))).map((r) => r.message);
      if (stopped.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stopped).toEqual([
      `Sync all stopped after ${synced} of ${ORDERS} tasks: The Sage connection needs to be reconnected by the reseller. What is synced stays synced; the rest stay to sync — click Sync all to go on (nothing is written twice).`,
    ]);
    // while broken, Sync all says reconnect first
    await expect(prepareSyncRequest(sw.db, { tenantId: sw.world.tenantId })).rejects.toThrow("Reconnect Sage first: Sage refused the connection's authorization.");
  }, 300_000);

  it("Reconnect (real OAuth round trip) releases exactly the halted tasks at once; Sync all has them", async () => {
    expect(halted.length).toBeGreaterThan(0);
    const before = (await sw.db.select({ id: actionLog.id }).from(actionLog)).reduce((m, r) => Math.max(m, r.id), 0);
    const { outcome } = await sw.world.authorize();
    expect(outcome).toMatchObject({ kind: "connected", connectionId: sw.connectionId });
    expect((await sw.world.connection())!.status).toBe("connected");

    const released = await sw.db.select().from(syncTasks).where(inArray(syncTasks.id, halted));
    expect(released.map((r) => ({ state: r.state, reason: r.reason, reasonLink: r.reasonLink }))).toEqual(halted.map(() => ({ state: "pending", reason: null, reasonLink: null })));
    const log = await sw.db.select().from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), sql`${actionLog.id} > ${before}`)).orderBy(actionLog.id);
    expect(log.map((l) => [l.category, l.message])).toEqual([
      ["auth", "Sage Business Cloud Accounting reconnected"],
      ["auth", expect.stringMatching(/^Sage business selected: /)],
      ["sync", `${halted.length} tasks released after reconnect: they were halted when Sage refused the authorization and can be synced again (Sync all; nothing is written twice).`],
    ]);
    expect(log[2]!.details).toMatchObject({ op: "tasks_released_after_reconnect", connectionId: sw.connectionId, tasks: halted.length });

    // Sync all is enabled at once: the released tasks plus the 30 never claimed, nothing else
    const open = (await sw.db.select({ id: syncTasks.id }).from(syncTasks).where(and(inArray(syncTasks.id, tasks.map((t) => t.taskId)), eq(syncTasks.state, "pending")))).map((r) => r.id);
    expect(open).toHaveLength(halted.length + ORDERS - 100);
    const request = await prepareSyncRequest(sw.db, { tenantId: sw.world.tenantId });
    expect(request.connectionId).toBe(sw.connectionId);
    expect([...request.taskIds].sort()).toEqual([...open].sort());
    expect(request.taskIds.filter((id) => halted.includes(id))).toHaveLength(halted.length);

    // a second reconnect releases nothing more (no row)
    await sw.world.authorize();
    expect(await sw.db.select().from(actionLog).where(sql`${actionLog.details}->>'op' = 'tasks_released_after_reconnect'`)).toHaveLength(1);

    // and syncing them writes each invoice once
    await sw.syncAll(request.taskIds);
    expect(await states(tasks.map((t) => t.taskId))).toEqual({ synced: ORDERS });
    const state = await sw.sageState();
    const refs = new Set(tasks.map((t) => t.orderId));
    const invoices = state.sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    expect(invoices).toHaveLength(ORDERS);
    expect(new Set(invoices.map((i) => i.reference)).size).toBe(ORDERS);
  }, 300_000);
});
