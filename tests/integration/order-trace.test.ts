import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { inlineCronMarks, sageCalls, syncTasks, tenants } from "@/db/schema";
import { InlineRunner } from "@/inngest/inline-runner";
import { sageCallRetentionDaily } from "@/inngest/functions/sage-call-retention";
import { resetConfigForTests, getConfig } from "@/lib/config";
import { receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { marketplaceEventReceived } from "@/inngest/functions/marketplace-event-received";
import { getOrderTrace } from "@/lib/trace/order-trace";
import { flushSageCalls, purgeSageCallsSlice, sageCallCutoff } from "@/lib/trace/sage-call-recorder";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";
import { ensureWebhookSecret, orderEvent, orderFixture, signed } from "./intake-helpers";

/**
 * The order trace (#13): the Sage calls of a task synced under injected faults, retries included,
 * recorded with the task they served and shown in time order with the arrival (webhook id), the
 * document with its link and the state changes; bodies redacted; tenant-scoped; retention.
 */
describe("order trace", () => {
  let sw: SyncWorld;
  // personal data and secrets of the fixture: none of it may be stored in a recorded body
  const PERSONAL = {
    email: "jane.doe.trace@fixture-mail.example",
    phone: "+44 20 7946 0958",
    contactName: "Jane Trace-Doe",
    line1: "221B Fixture Street",
    city: "Traceborough",
    postalCode: "TR4 3CE",
    taxId: "GB999888777",
  };

  beforeAll(async () => {
    process.env.SAGE_RATE_LIMIT = "100000/60";
    sw = await startSyncWorld();
    await sw.settings({ notifications: "all_tasks" });
  }, 120_000);
  afterAll(async () => sw?.close());

  /** A purchase pushed by the marketplace as a signed webhook (the intake's own path), processed into a task. */
  async function pushOrder(customerId: string, quantity: string) {
    const { installationId, secret } = await ensureWebhookSecret(sw.world);
    const order = orderFixture({ customer: { id: customerId, name: "Trace Fixture Ltd", email: PERSONAL.email, currency: "GBP" }, items: [{ mpn: "M365-STD", quantity, name: "Microsoft 365 Business Standard", unit_price: "12.50" }] });
    order.asset.tiers.customer.contact_info = {
      email: PERSONAL.email,
      phone: PERSONAL.phone,
      contact_name: PERSONAL.contactName,
      tax_id: PERSONAL.taxId,
      address: { line1: PERSONAL.line1, city: PERSONAL.city, postal_code: PERSONAL.postalCode, country: "GB" },
    } as never;
    const delivery = signed(secret, orderEvent(order));
    const res = await receiveMarketplaceWebhook(sw.db, { installationId, headers: delivery.headers, body: delivery.body }, { enqueue: async (webhookId, inst) => void (await sw.runner.send(marketplaceEventReceived(webhookId, inst))) });
    expect(res.status).toBe(202);
    await sw.runner.drain();
    const [task] = await sw.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, sw.world.tenantId), eq(syncTasks.marketplaceOrderId, order.id)));
    expect(task, "the webhook made a task").toBeDefined();
    return { orderId: order.id, taskId: task!.id, webhookId: delivery.id };
  }

  it("a task synced under a 429 (Retry-After) on the contact create and a 503 on the invoice create: the trace holds exactly its Sage calls in order, the retries flagged, the document with its link and the webhook it arrived by", async () => {
    const { orderId, taskId, webhookId } = await pushOrder("TA-TRACE-1", "3");
    await sw.world.control("faults", { route: "sage.contacts.create", kind: "status", status: 429, count: 1, retryAfterSeconds: 1 });
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "status", status: 503, count: 1 });
    await sw.world.clearRequestLog();
    await sw.sync([taskId]);
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });

    // the faults fired: the sandbox's own log
    const log = (await sw.world.requestLog()).filter((l) => l.path.startsWith("/sage/v3.1"));
    const writes = log.filter((l) => l.method === "POST").map((l) => `${l.method} ${l.path.split("?")[0]} ${l.status}`);
    expect(writes).toEqual(["POST /sage/v3.1/contacts 429", "POST /sage/v3.1/contacts 201", "POST /sage/v3.1/sales_invoices 503", "POST /sage/v3.1/sales_invoices 201"]);
    expect((await sw.task(taskId)).state).toBe("synced");

    const trace = (await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId }, { inlineRunner: true }))!;
    expect(trace.task).toMatchObject({ id: taskId, orderId, customerId: "TA-TRACE-1", customerName: "Trace Fixture Ltd", orderType: "sales", state: "synced", currency: "GBP", source: "push" });
    const calls = trace.entries.filter((e) => e.kind === "sage_call").map((e) => e.sageCall!);
    // every attempt the sandbox saw during this sync is one call of this task, in the same order
    expect(calls.map((c) => `${c.method} /sage/v3.1${c.path.replace(/^.*\/v3\.1/, "")} ${c.status}`)).toEqual(log.map((l) => `${l.method} ${l.path.split("?")[0]} ${l.status}`));
    expect(calls.every((c) => !c.shared)).toBe(true);
    const posts = calls.filter((c) => c.method === "POST").map((c) => ({ path: c.path.replace(/^.*\/v3\.1/, ""), status: c.status, attempt: c.attempt, retry: c.retry, errorKind: c.errorKind, step: c.step }));
    expect(posts).toEqual([
      { path: "/contacts", status: 429, attempt: 1, retry: false, errorKind: "rate_limit", step: "ensure-contact" },
      { path: "/contacts", status: 201, attempt: 2, retry: true, errorKind: null, step: "ensure-contact" },
      { path: "/sales_invoices", status: 503, attempt: 1, retry: false, errorKind: "retryable", step: "write-invoice" },
      { path: "/sales_invoices", status: 201, attempt: 2, retry: true, errorKind: null, step: "write-invoice" },
    ]);
    // the 429 was honoured: the retry went out at least Retry-After (1 s) after the refused attempt
    const contactCalls = trace.entries.filter((e) => e.sageCall?.path.endsWith("/contacts") && e.sageCall.method === "POST");
    expect(Date.parse(contactCalls[1]!.at) - Date.parse(contactCalls[0]!.at)).toBeGreaterThanOrEqual(1000);
    expect(calls.filter((c) => c.status === 503)[0]!.errorMessage).toBeTruthy();
    expect(trace.counts).toEqual({ sageCalls: log.length, retries: 2, failedCalls: 2 });

    // the arrival: the webhook id and its verification
    const arrival = trace.entries.find((e) => e.kind === "arrival")!;
    expect(arrival.title).toBe("Webhook order.created received");
    expect(arrival.details).toContainEqual({ label: "Webhook id", value: webhookId });
    expect(arrival.details.find((d) => d.label === "Verification")!.value).toMatch(/^signature verified/);
    // the invoice, with its link
    const [invoice] = (await sw.documents(taskId)).filter((d) => d.kind === "sales_invoice");
    const doc = trace.entries.find((e) => e.kind === "document" && e.title.startsWith("sales invoice"))!;
    expect(doc.status).toBe("written");
    expect(doc.link!.href).toContain(invoice!.sageId);
    // runs and steps of the inline runner
    expect(trace.entries.filter((e) => e.kind === "run").map((e) => [e.title, e.status])).toEqual([["Flow run sync-task", "completed"]]);
    expect(trace.entries.filter((e) => e.kind === "step").map((e) => e.title)).toEqual(expect.arrayContaining(["Step begin", "Step plan", "Step ensure-contact", "Step write-invoice", "Step complete"]));
    // state changes and the pop-up of the success (Notifications: all tasks)
    expect(trace.entries.filter((e) => e.kind === "state_change").map((e) => e.status)).toEqual(["pending", "synced", "synced"]);
    expect(trace.entries.filter((e) => e.kind === "notification").map((e) => e.title)).toEqual([expect.stringMatching(new RegExp(`^Pop-up shown: Order ${orderId} synced: invoice`))]);
    // time order
    const times = trace.entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(trace.truncated).toBe(false);
  }, 120_000);

  it("stored bodies carry no e-mail, phone, contact person, address, tax number or token of the fixture; amounts, references and descriptions stay", async () => {
    const [task] = await sw.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, sw.world.tenantId), eq(syncTasks.marketplaceCustomerId, "TA-TRACE-1")));
    const rows = await sw.db.select().from(sageCalls).where(eq(sageCalls.taskId, task!.id));
    const contactCreate = rows.find((r) => r.method === "POST" && r.path.endsWith("/contacts") && r.status === 201)!;
    // the fixture did reach Sage (the contact holds it), so its absence below is the redaction's doing
    const state = await sw.sageState();
    const inSage = JSON.stringify(state.contacts.find((c) => c.reference === "TA-TRACE-1"));
    expect(inSage).toContain(PERSONAL.email);
    expect(inSage).toContain(PERSONAL.line1);

    const stored = rows.map((r) => `${r.requestBody ?? ""}\n${r.responseBody ?? ""}\n${r.path}\n${r.errorMessage ?? ""}`).join("\n");
    for (const value of Object.values(PERSONAL)) expect(stored, value).not.toContain(value);
    expect(stored).not.toMatch(/bearer/i);
    const connection = (await sw.world.connection())!;
    expect(stored).not.toContain(connection.credentialsEncrypted);
    expect(contactCreate.requestBody).toContain('"reference":"TA-TRACE-1"');
    expect(contactCreate.requestBody).toContain('"[redacted]"');
    const invoiceCreate = rows.find((r) => r.method === "POST" && r.path.endsWith("/sales_invoices") && r.status === 201)!;
    const body = JSON.parse(invoiceCreate.requestBody!) as { sales_invoice: { reference: string; total_amount: number; net_amount: number; currency_id: string; invoice_lines: { description: string; quantity: number; unit_price: number; tax_rate_id: string }[] } };
    expect(body.sales_invoice.reference).toBe(task!.marketplaceOrderId);
    expect(body.sales_invoice.currency_id).toBe("GBP");
    expect(body.sales_invoice.net_amount).toBe(37.5);
    expect(body.sales_invoice.invoice_lines.map((l) => [l.quantity, l.unit_price])).toEqual([[3, 12.5]]);
    expect(body.sales_invoice.invoice_lines[0]!.tax_rate_id).toBeTruthy();
    expect(body.sales_invoice.invoice_lines[0]!.description).toContain("Microsoft 365 Business Standard");
    expect(invoiceCreate.responseBody).toContain(`"reference":"${task!.marketplaceOrderId}"`);
    for (const r of rows) {
      expect(r.requestBody?.length ?? 0).toBeLessThanOrEqual(4096);
      expect(r.responseBody?.length ?? 0).toBeLessThanOrEqual(4096);
      expect(r.path).not.toContain("?");
    }
  });

  it("Sync all: each task's document write is its own, the run's shared calls carry the batch id and no task, and both traces show them", async () => {
    const a = await sw.order("purchase", [{ mpn: "M365-BAS", quantity: "2" }], { customer: { id: "TA-TRACE-2", name: "Batch One Ltd", email: "one@batch.example" } });
    const b = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer: { id: "TA-TRACE-3", name: "Batch Two Ltd", email: "two@batch.example" } });
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "status", status: 503, count: 1 });
    await sw.world.clearRequestLog();
    await sw.syncAll([a.taskId, b.taskId]);
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    const log = (await sw.world.requestLog()).filter((l) => l.path.startsWith("/sage/v3.1"));
    expect(log.filter((l) => l.method === "POST" && l.path.startsWith("/sage/v3.1/sales_invoices")).map((l) => l.status)).toEqual([503, 201, 201]);
    expect((await sw.task(a.taskId)).state).toBe("synced");
    expect((await sw.task(b.taskId)).state).toBe("synced");

    const ta = (await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: a.taskId }, { inlineRunner: true }))!;
    const tb = (await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: b.taskId }, { inlineRunner: true }))!;
    const invoicePosts = (t: typeof ta) => t.entries.filter((e) => e.sageCall && e.sageCall.method === "POST" && e.sageCall.path.endsWith("/sales_invoices")).map((e) => [e.sageCall!.status, e.sageCall!.attempt, e.sageCall!.shared]);
    // the first write (task a, first in the batch) met the 503 and was retried; task b's went through at once
    expect(invoicePosts(ta)).toEqual([[503, 1, false], [201, 2, false]]);
    expect(invoicePosts(tb)).toEqual([[201, 1, false]]);
    // every attempt of the sync is recorded once: own calls of a, of b, and the shared ones
    const own = (t: typeof ta) => t.entries.filter((e) => e.sageCall && !e.sageCall.shared).length;
    const shared = ta.entries.filter((e) => e.sageCall?.shared);
    expect(shared.map((e) => e.id)).toEqual(tb.entries.filter((e) => e.sageCall?.shared).map((e) => e.id));
    expect(own(ta) + own(tb) + shared.length).toBe(log.length);
    const batchIds = new Set(shared.map((e) => e.sageCall!.batchId));
    expect(batchIds.size).toBe(1);
    expect([...batchIds][0]).toMatch(/^sync-run-/);
    expect(ta.entries.filter((e) => e.kind === "run").map((e) => e.title)).toEqual(["Flow run sync-batch"]);
  }, 120_000);

  it("another tenant's task is not found (null), nor is an unknown one", async () => {
    const [task] = await sw.db.select().from(syncTasks).where(eq(syncTasks.tenantId, sw.world.tenantId)).limit(1);
    const [other] = await sw.db.insert(tenants).values({ marketplaceAccountId: `RES-OTHER-${randomUUID().slice(0, 6)}`, name: "Other Reseller" }).returning();
    expect(await getOrderTrace(sw.db, { tenantId: other!.id, taskId: task!.id })).toBeNull();
    expect(await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: randomUUID() })).toBeNull();
    expect(await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: "not-a-uuid" })).toBeNull();
    expect(await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: task!.id })).not.toBeNull();
  });

  it("under an Inngest server the trace says runs are not available here; at most the bound of entries, saying so", async () => {
    const [task] = await sw.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, sw.world.tenantId), eq(syncTasks.marketplaceCustomerId, "TA-TRACE-1")));
    const external = (await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: task!.id }, { inlineRunner: false }))!;
    expect(external.entries.filter((e) => e.kind === "run" || e.kind === "step")).toHaveLength(0);
    expect(external.notes.some((n) => n.includes("Inngest dashboard"))).toBe(true);
    const bounded = (await getOrderTrace(sw.db, { tenantId: sw.world.tenantId, taskId: task!.id }, { inlineRunner: true, maxEntries: 5 }))!;
    expect(bounded.entries).toHaveLength(5);
    expect(bounded.truncated).toBe(true);
    expect(bounded.totalEntries).toBeGreaterThan(5);
  });

  it("retention: calls older than SAGE_CALL_RETENTION_DAYS are purged in bounded slices, younger ones kept", async () => {
    await flushSageCalls();
    await sw.db.delete(sageCalls).where(isNull(sageCalls.taskId));
    const before = (await sw.db.select().from(sageCalls)).length;
    process.env.SAGE_CALL_RETENTION_DAYS = "10";
    resetConfigForTests();
    expect(getConfig().sageCallRetentionDays).toBe(10);
    const now = new Date();
    const day = 24 * 60 * 60 * 1000;
    const row = (ageDays: number) => ({ at: new Date(now.getTime() - ageDays * day), tenantId: sw.world.tenantId, connectionId: sw.connectionId, target: "sage-accounting", method: "GET", path: "/old", status: 200, durationMs: 1, attempt: 1 });
    await sw.db.insert(sageCalls).values([row(40), row(11), row(10.01), row(10.01), row(12), row(9.99), row(3)]);
    const cutoff = sageCallCutoff(now, getConfig().sageCallRetentionDays);
    const slices: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await purgeSageCallsSlice(sw.db, { before: cutoff, limit: 2 });
      slices.push(r.deleted);
      if (r.done) break;
    }
    expect(slices).toEqual([2, 2, 1]);
    const left = await sw.db.select().from(sageCalls);
    expect(left.length).toBe(before + 2);
    expect(left.filter((r) => r.path === "/old").map((r) => Math.round((now.getTime() - r.at.getTime()) / day))).toEqual([10, 3]);
    delete process.env.SAGE_CALL_RETENTION_DAYS;
    resetConfigForTests();
    expect(getConfig().sageCallRetentionDays).toBe(30);

    // the daily flow (its cron's latest tick, marked as last fired two days ago), at the default 30 days
    await sw.db.insert(sageCalls).values([row(45), row(32), row(31.5), row(29.5)]); // the cut-off is 30 days before the tick (within the last day)
    const total = (await sw.db.select().from(sageCalls)).length;
    await sw.db.insert(inlineCronMarks).values({ functionId: "sage-call-retention-daily", lastFiredAt: new Date(now.getTime() - 2 * day) });
    const runner = new InlineRunner({ db: sw.db, functions: [sageCallRetentionDaily], pollIntervalMs: 20, leaseMs: 2_000, retryBaseDelayMs: 50, logger: false });
    runner.start();
    try {
      await runner.drain({ timeoutMs: 30_000 });
    } finally {
      await runner.stop();
    }
    const daily = await runner.listRuns({ functionId: "sage-call-retention-daily" });
    expect(daily.map((r) => [r.status, (r.output as { deleted: number; done: boolean }).deleted, (r.output as { done: boolean }).done])).toEqual([["completed", 3, true]]);
    expect((await sw.db.select().from(sageCalls)).length).toBe(total - 3);
  });
});
