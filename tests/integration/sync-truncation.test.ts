import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, gte, inArray } from "drizzle-orm";
import { actionLog, sageDocuments, syncTasks } from "@/db/schema";
import { SageError } from "@/lib/sage/errors";
import { syncTaskBatch } from "@/lib/sync/batch";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/** The sandbox's fault list (control API): what each injected fault is and how often it fired. */
async function firedFaults(sw: SyncWorld) {
  const res = await fetch(`${sw.world.sandbox.url}/__sandbox/faults`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { route: string; kind: string; fired: number }[]).map((f) => ({ route: f.route, kind: f.kind, fired: f.fired }));
}
const clearFaults = (sw: SyncWorld) => fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });

async function statesOf(sw: SyncWorld, taskIds: string[]) {
  const rows = await sw.db.select({ state: syncTasks.state }).from(syncTasks).where(inArray(syncTasks.id, taskIds));
  return rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.state]: (acc[r.state] ?? 0) + 1 }), {});
}

async function syncErrorRows(sw: SyncWorld, since: Date) {
  return sw.db
    .select()
    .from(actionLog)
    .where(and(eq(actionLog.tenantId, sw.world.tenantId), eq(actionLog.level, "error"), eq(actionLog.category, "sync"), gte(actionLog.at, since)));
}

/**
 * Answers cut off mid-body (the request was applied, the connection broke half-way through the
 * body): on list look-ups and on contact and invoice creates. One Sync all must finish in its
 * first attempt with everything written exactly once; an attempt that fails anyway (Sage down for
 * longer than the retries) records what it wrote, hands the rest back and says so in the Action Log.
 */
describe("sync with answers cut off mid-body", () => {
  let sw: SyncWorld;

  beforeAll(async () => {
    process.env.SAGE_ATTEMPT_TIMEOUT_MS = "1000";
    process.env.SAGE_RATE_LIMIT = "100000/60";
    sw = await startSyncWorld();
    await sw.settings({});
    await sw.world.control("config", { rateLimit: { limit: 100000, windowSeconds: 60, retryAfter: true } });
  }, 120_000);
  afterAll(async () => sw?.close());

  it("400 orders, ~10 % of list look-ups and of contact / invoice creates truncated → one attempt, 400 invoices, one contact per customer", async () => {
    const ORDERS = 400;
    const CUSTOMERS = 100;
    const tasks: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const c = i % CUSTOMERS;
      tasks.push(await sw.order("purchase", [{ mpn: i % 2 ? "M365-STD" : "M365-BAS", quantity: String(1 + (i % 5)) }], { customer: { id: `TA-T${c}`, name: `Truncation Customer ${c}`, email: `ap-t${c}@truncation.example` } }));
    }
    const faults = [
      { route: "sage.*.list", kind: "commit-then-truncate", probability: 0.1 },
      { route: "sage.contacts.create", kind: "commit-then-truncate", probability: 0.1 },
      { route: "sage.sales_invoices.create", kind: "commit-then-truncate", probability: 0.1 },
    ];
    for (const f of faults) await sw.world.control("faults", f);
    await sw.world.clearRequestLog();
    const since = new Date();

    const outputs = await sw.syncAll(tasks.map((t) => t.taskId));
    const fired = await firedFaults(sw);
    await clearFaults(sw);
    const log = await sw.world.requestLog();

    // the faults really fired (P(none) < 1e-4 each), as often as the sandbox logged them
    expect(fired.map((f) => f.route)).toEqual(faults.map((f) => f.route));
    for (const f of fired) expect(f.fired, f.route).toBeGreaterThan(0);
    const truncated = log.filter((l) => l.outcome === "commit-then-truncate");
    expect(truncated.filter((l) => l.route?.endsWith(".list"))).toHaveLength(fired[0]!.fired);
    expect(truncated.filter((l) => l.route === "sage.contacts.create")).toHaveLength(fired[1]!.fired);
    expect(truncated.filter((l) => l.route === "sage.sales_invoices.create")).toHaveLength(fired[2]!.fired);

    // one attempt did it all: nothing was skipped as "already synced by an earlier attempt", no attempt logged an error
    expect(outputs).toEqual([{ synced: ORDERS, failed: 0, actionRequired: 0, skipped: 0, documents: ORDERS }]);
    expect(await syncErrorRows(sw, since)).toEqual([]);
    expect(await statesOf(sw, tasks.map((t) => t.taskId))).toEqual({ synced: ORDERS });

    const state = await sw.sageState();
    const refs = new Set(tasks.map((t) => t.orderId));
    const invoices = state.sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    expect(invoices).toHaveLength(ORDERS);
    expect(new Set(invoices.map((i) => i.reference)).size).toBe(ORDERS);
    const contacts = state.contacts.filter((c) => /^TA-T\d+$/.test(c.reference ?? ""));
    expect(contacts).toHaveLength(CUSTOMERS);
    expect(new Set(contacts.map((c) => c.reference)).size).toBe(CUSTOMERS);

    // a contact create whose answer was cut off is looked up, not sent again: one create per customer
    const creates = log.filter((l) => l.route === "sage.contacts.create" && l.method === "POST");
    const perCustomer = new Map<string, number>();
    for (const c of creates) {
      const ref = (c.body as { contact?: { reference?: string } } | undefined)?.contact?.reference ?? "?";
      perCustomer.set(ref, (perCustomer.get(ref) ?? 0) + 1);
    }
    expect(perCustomer.size).toBe(CUSTOMERS);
    expect([...perCustomer.values()].every((n) => n === 1)).toBe(true);
    // the same for invoices: every invoice created exactly once (a truncated create is looked up by reference first)
    const invoiceCreates = log.filter((l) => l.route === "sage.sales_invoices.create" && l.method === "POST" && l.status === 201);
    expect(invoiceCreates).toHaveLength(ORDERS);
    // what we recorded matches Sage, id for id
    const docs = await sw.db.select().from(sageDocuments).where(and(inArray(sageDocuments.taskId, tasks.map((t) => t.taskId)), eq(sageDocuments.kind, "sales_invoice")));
    expect(docs.map((d) => d.sageId).sort()).toEqual(invoices.map((i) => i.id).sort());
  }, 600_000);

  it("Sage down for longer than the retries → the attempt fails; what it wrote is recorded, the rest is pending again, the Action Log says what to do; the next Sync all finishes", async () => {
    const ORDERS = 300;
    const CUSTOMERS = 40;
    const tasks: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const c = i % CUSTOMERS;
      tasks.push(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(1 + (i % 3)) }], { customer: { id: `TA-D${c}`, name: `Outage Customer ${c}`, email: `ap-d${c}@outage.example` } }));
    }
    const taskIds = tasks.map((t) => t.taskId);
    const refs = new Set(tasks.map((t) => t.orderId));
    const invoicesInSage = async () => (await sw.sageState()).sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    // slow the invoice creates down a little so the outage starts part-way through the batch
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "delay", delayMs: 15 });
    const since = new Date();

    const attempt = syncTaskBatch(sw.db, { tenantId: sw.world.tenantId, connectionId: sw.connectionId, taskIds }).then(
      () => null,
      (e: unknown) => e,
    );
    while ((await invoicesInSage()).length < 40) await new Promise((r) => setTimeout(r, 20));
    await clearFaults(sw);
    await sw.world.control("faults", { route: "sage.*", kind: "status", status: 503 });
    const error = await attempt;
    const outage = await firedFaults(sw);
    await clearFaults(sw);

    expect(error).toBeInstanceOf(SageError);
    expect((error as SageError).kind).toBe("retryable");
    expect((error as SageError).status).toBe(503);
    expect(outage[0]!.fired).toBeGreaterThan(0);

    const written = await invoicesInSage();
    const K = written.length;
    expect(K).toBeGreaterThanOrEqual(40);
    expect(K).toBeLessThan(ORDERS);
    // every document Sage holds is recorded (before the error propagated), its task synced; nothing else
    expect(await statesOf(sw, taskIds)).toEqual({ synced: K, pending: ORDERS - K });
    const synced = await sw.db.select().from(syncTasks).where(and(inArray(syncTasks.id, taskIds), eq(syncTasks.state, "synced")));
    expect(synced.map((t) => t.marketplaceOrderId).sort()).toEqual(written.map((i) => i.reference).sort());
    const recorded = await sw.db.select().from(sageDocuments).where(and(inArray(sageDocuments.taskId, taskIds), eq(sageDocuments.kind, "sales_invoice")));
    expect(recorded.filter((d) => d.sageId !== "").map((d) => d.sageId).sort()).toEqual(written.map((i) => i.id).sort());
    // the rest is syncable again, each saying why it is not synced yet
    const pending = await sw.db.select().from(syncTasks).where(and(inArray(syncTasks.id, taskIds), eq(syncTasks.state, "pending")));
    expect(pending).toHaveLength(ORDERS - K);
    for (const t of pending) expect(t.reason).toMatch(/^Not synced yet: the last attempt stopped — Sage could not be reached or kept failing \(.*\)\. .*Sync all/);

    // one error row: what happened, how far it got, what to do
    const errors = await syncErrorRows(sw, since);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      `Sync stopped: Sage could not be reached or kept failing (${(error as SageError).message}). ${K} of ${ORDERS} tasks were synced and are recorded; ${ORDERS - K} are pending again. ` +
        "The sync is retried automatically; if it keeps failing, check Sage's service status and click Sync all later — nothing is written twice.",
    );
    expect(errors[0]!.details).toMatchObject({ op: "sync_attempt_failed", kind: "retryable", synced: K, pendingAgain: ORDERS - K });

    // Sage is back: one Sync all finishes the rest, nothing twice
    const outputs = await sw.syncAll(taskIds);
    expect(outputs).toEqual([{ synced: ORDERS - K, failed: 0, actionRequired: 0, skipped: K, documents: ORDERS - K }]);
    expect(await statesOf(sw, taskIds)).toEqual({ synced: ORDERS });
    const after = await invoicesInSage();
    expect(after).toHaveLength(ORDERS);
    expect(new Set(after.map((i) => i.reference)).size).toBe(ORDERS);
    expect((await sw.sageState()).contacts.filter((c) => /^TA-D\d+$/.test(c.reference ?? ""))).toHaveLength(CUSTOMERS);
  }, 600_000);
});
