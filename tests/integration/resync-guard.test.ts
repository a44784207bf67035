import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray } from "drizzle-orm";
import { actionLog, customerMappings, marketplaceCustomers, resyncReviews } from "@/db/schema";
import { resyncReviewConfirmed, resyncReviewRequested } from "@/inngest/events";
import { resyncReview, resyncReviewConfirm } from "@/inngest/functions/resync-review";
import { syncBatch } from "@/inngest/functions/sync-batch";
import { syncTask } from "@/inngest/functions/sync-task";
import { InlineRunner } from "@/inngest/inline-runner";
import { disconnectSage } from "@/lib/connections/disconnect";
import { unmapCustomers } from "@/lib/mapping/customers";
import { confirmResyncReview, getResyncReview, RESYNC_HOLD_PREFIX, RESYNC_REVIEW_LINK, ResyncReviewError, resyncHold } from "@/lib/sync/resync-guard";
import { collectSagePages } from "@/lib/sage/accounting/api";
import { CUSTOMER, startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Re-sync guard (#13): a tenant that synced loses every customer's Sage contact id (unmapped while
 * disconnected), reconnects → the review matches the contacts Sage already holds, the next sync
 * creates none for them, the customers without one wait until the reseller confirms, and the
 * confirmation creates exactly those, once. Support can read the review but never confirm it.
 */
describe("Re-sync guard: reconnect without Sage ids matches existing contacts before anything is created", () => {
  let sw: SyncWorld;
  let runner: InlineRunner;
  const customers = {
    a: CUSTOMER,
    b: { id: "TA-9002", name: "Northwind Traders", email: "accounts@northwind.example", currency: "GBP" },
    c: { id: "TA-9003", name: "Adventure Works", email: "billing@adventure-works.example", currency: "GBP" },
    // came to the marketplace while disconnected: no Sage contact anywhere
    d: { id: "TA-9004", name: "Tailspin Toys", email: "ap@tailspin.example", currency: "GBP" },
    e: { id: "TA-9005", name: "Wingtip Games", email: "finance@wingtip.example", currency: "GBP" },
    // a contact the reseller keyed into Sage by hand: no e-mail, no reference — only the name
    f: { id: "TA-9006", name: "Fabrikam Hosting", email: "it@fabrikam-hosting.example", currency: "GBP" },
  };
  const support = { type: "support" as const, id: "support-1", label: "Sam Support <sam@support.example>" };

  beforeAll(async () => {
    sw = await startSyncWorld();
    await sw.settings({});
    runner = new InlineRunner({ db: sw.db, functions: [syncTask, syncBatch, resyncReview, resyncReviewConfirm], pollIntervalMs: 10, retryBaseDelayMs: 10, retryMaxDelayMs: 200, leaseMs: 5_000, logger: false, cron: false });
    runner.start();
  });
  afterAll(async () => {
    await runner?.stop({ timeoutMs: 2_000 });
    await sw?.close();
  });

  const contactsWithReference = async (reference: string) => (await sw.sageState()).contacts.filter((c) => c.reference === reference).length;

  it("matches, holds, confirms once; support is refused", async () => {
    // 1. three customers synced: three contacts created by the sync
    const first = [await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer: customers.a }), await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer: customers.b }), await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer: customers.c })];
    await sw.sync(first.map((o) => o.taskId));
    for (const o of first) expect([(await sw.task(o.taskId)).state, (await sw.task(o.taskId)).reason]).toEqual(["synced", null]);
    const handMade = await sw.sage.POST("/contacts", { body: { contact: { name: customers.f.name, contact_type_ids: ["CUSTOMER"] } } as never });
    expect(handMade.response.status).toBe(201);
    const contactsBefore = (await sw.sageState()).contacts.length;
    const customerContacts = (await collectSagePages<{ id: string }>(sw.sage, "/contacts?contact_type_id=CUSTOMER&items_per_page=200")).length;
    expect(customerContacts).toBeGreaterThanOrEqual(4);

    // 2. disconnected; every customer's Sage contact id is gone (unmapped); new customers and orders arrive
    expect((await disconnectSage(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor })).ok).toBe(true);
    const all = await sw.db.select({ id: marketplaceCustomers.id }).from(marketplaceCustomers).where(eq(marketplaceCustomers.tenantId, sw.world.tenantId));
    expect((await unmapCustomers(sw.db, { tenantId: sw.world.tenantId, customerIds: all.map((c) => c.id), actor: sw.world.actor })).unmapped).toBe(3);
    const matchedOrders = [await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2" }], { customer: customers.a }), await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2" }], { customer: customers.f })];
    const newOrders = [await sw.order("purchase", [{ mpn: "M365-STD", quantity: "3" }], { customer: customers.d }), await sw.order("purchase", [{ mpn: "M365-STD", quantity: "3" }], { customer: customers.e })];

    // 3. reconnect → a review opens, holding contact creation
    const { outcome } = await sw.world.authorize();
    expect(outcome.kind).toBe("connected");
    const reviewId = outcome.kind === "connected" ? outcome.resyncReviewId : null;
    expect(reviewId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await resyncHold(sw.db, sw.world.tenantId))?.status).toBe("checking");
    const checking = await getResyncReview(sw.db, sw.world.tenantId);
    expect({ status: checking?.status, total: checking?.progress.total, checked: checking?.progress.checked, holding: checking?.holding }).toEqual({ status: "checking", total: 6, checked: 0, holding: true });

    // 4. the review runs: reads the business's contacts in pages, matches every customer
    const { runIds } = await runner.send(resyncReviewRequested.create({ tenantId: sw.world.tenantId, connectionId: sw.connectionId, reviewId: reviewId! }, { id: `resync-review-${reviewId}` }));
    const run = await runner.waitForRun(runIds[0]!, { timeoutMs: 60_000 });
    expect(run.status).toBe("completed");
    const review = (await getResyncReview(sw.db, sw.world.tenantId))!;
    expect({ status: review.status, checked: review.progress.checked, total: review.progress.total, matched: review.matched, toCreate: review.toCreate, contactsRead: review.progress.contactsRead }).toEqual({
      status: "awaiting_confirmation",
      checked: 6,
      total: 6,
      matched: 4,
      toCreate: 2,
      contactsRead: customerContacts,
    });
    expect(review.matchedCustomers.map((m) => [m.marketplaceCustomerId, m.matchedBy]).sort()).toEqual([["TA-9001", "email"], ["TA-9002", "email"], ["TA-9003", "email"], ["TA-9006", "name"]]);
    expect(review.toCreateCustomers.map((m) => m.marketplaceCustomerId).sort()).toEqual(["TA-9004", "TA-9005"]);
    // matches are mappings now: the Sage contact the sync created for A is A's again
    const state = await sw.sageState();
    const [aMapping] = await sw.db.select({ sageContactId: customerMappings.sageContactId }).from(customerMappings).innerJoin(marketplaceCustomers, eq(marketplaceCustomers.id, customerMappings.customerId)).where(eq(marketplaceCustomers.marketplaceCustomerId, "TA-9001"));
    expect(aMapping!.sageContactId).toBe(state.contacts.find((c) => c.reference === "TA-9001")!.id);
    expect(state.contacts.length).toBe(contactsBefore);

    // 5. the next sync: matched customers' orders sync with 0 new contacts; the others wait, linked to the review
    await sw.sync([...matchedOrders, newOrders[0]!].map((o) => o.taskId));
    await sw.syncAll([newOrders[1]!.taskId]);
    for (const o of matchedOrders) expect((await sw.task(o.taskId)).state).toBe("synced");
    for (const o of newOrders) {
      const t = await sw.task(o.taskId);
      expect({ state: t.state, link: t.reasonLink, waits: t.reason?.startsWith(RESYNC_HOLD_PREFIX) }).toEqual({ state: "action_required", link: RESYNC_REVIEW_LINK, waits: true });
    }
    const held = await sw.sageState();
    expect(held.contacts.length).toBe(contactsBefore);
    expect(held.sales_invoices.filter((i) => matchedOrders.some((o) => o.orderId === i.reference))).toHaveLength(2);
    expect(held.sales_invoices.filter((i) => newOrders.some((o) => o.orderId === i.reference))).toHaveLength(0);
    expect((await getResyncReview(sw.db, sw.world.tenantId))!.heldTasks).toBe(2);

    // 6. support can read but never confirm: 403, nothing changed, the attempt logged
    const refused = await confirmResyncReview(sw.db, { tenantId: sw.world.tenantId, actor: support }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ResyncReviewError);
    expect({ status: (refused as ResyncReviewError).status, reason: (refused as ResyncReviewError).reason }).toEqual({ status: 403, reason: "support_refused" });
    const [afterRefusal] = await sw.db.select().from(resyncReviews).where(eq(resyncReviews.id, reviewId!));
    expect({ status: afterRefusal!.status, confirmedBy: afterRefusal!.confirmedBy }).toEqual({ status: "awaiting_confirmation", confirmedBy: null });
    expect((await sw.sageState()).contacts.length).toBe(contactsBefore);
    for (const o of newOrders) expect((await sw.task(o.taskId)).state).toBe("action_required");
    const refusalRows = await sw.db.select().from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), eq(actionLog.actorType, "support")));
    expect(refusalRows.map((r) => r.message)).toEqual(["Refused: support staff cannot confirm a re-sync review for a reseller; the reseller's administrator decides which Sage contacts are created."]);

    // 7. the reseller confirms: exactly the two missing contacts are created, once; the held orders sync
    const confirmed = await confirmResyncReview(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor });
    expect(confirmed).toEqual({ reviewId, connectionId: sw.connectionId, toCreate: 2 });
    const sent = await runner.send(resyncReviewConfirmed.create({ tenantId: sw.world.tenantId, connectionId: sw.connectionId, reviewId: reviewId!, actor: sw.world.actor }, { id: `resync-review-confirmed-${reviewId}` }));
    expect((await runner.waitForRun(sent.runIds[0]!, { timeoutMs: 60_000 })).status).toBe("completed");
    await runner.drain({ timeoutMs: 120_000 });
    const done = await sw.sageState();
    expect(done.contacts.length).toBe(contactsBefore + 2);
    expect([await contactsWithReference("TA-9004"), await contactsWithReference("TA-9005"), await contactsWithReference("TA-9001")]).toEqual([1, 1, 1]);
    for (const o of newOrders) expect((await sw.task(o.taskId)).state).toBe("synced");
    expect(done.sales_invoices.filter((i) => newOrders.some((o) => o.orderId === i.reference))).toHaveLength(2);
    const finished = (await getResyncReview(sw.db, sw.world.tenantId))!;
    expect({ status: finished.status, created: finished.created, holding: finished.holding, heldTasks: finished.heldTasks, createdCustomers: finished.createdCustomers.map((c) => c.marketplaceCustomerId).sort() }).toEqual({
      status: "completed",
      created: 2,
      holding: false,
      heldTasks: 0,
      createdCustomers: ["TA-9004", "TA-9005"],
    });
    expect(await resyncHold(sw.db, sw.world.tenantId)).toBeNull();

    // 8. a second confirmation (or the flow again) creates nothing
    await expect(confirmResyncReview(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor })).rejects.toMatchObject({ reason: "no_review", status: 404 });
    const again = await runner.send(resyncReviewConfirmed.create({ tenantId: sw.world.tenantId, connectionId: sw.connectionId, reviewId: reviewId!, actor: sw.world.actor }, { id: `resync-review-confirmed-${reviewId}-again` }));
    await runner.waitForRun(again.runIds[0]!, { timeoutMs: 60_000 });
    expect((await sw.sageState()).contacts.length).toBe(contactsBefore + 2);

    // the Action Log tells the story
    const ops = await sw.db.select({ message: actionLog.message }).from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), inArray(actionLog.category, ["sync", "mapping"])));
    const messages = ops.map((o) => o.message);
    const business = (await sw.world.connection())!.businessName;
    expect(messages).toContain(`Reconnected to ${business}: no customer carries a Sage contact id, so the existing Sage contacts of ${business} are checked against 6 marketplace customers before any contact is created. New Sage contacts wait for your confirmation (Mapping → Customers).`);
    expect(messages).toContain(`Re-sync review of ${business}: 4 customers matched to existing Sage contacts, 2 customers have none. Confirm "Create the 2 missing contacts and sync" on Mapping → Customers; until then no Sage contact is created.`);
    expect(messages).toContain(`Re-sync of ${business} done: 2 Sage contacts created, 4 customers matched to existing contacts; 2 held orders released to sync.`);
  });

  it("a reconnect that finds the mappings' Sage ids opens no review", async () => {
    expect((await disconnectSage(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor })).ok).toBe(true);
    const { outcome } = await sw.world.authorize();
    expect(outcome).toMatchObject({ kind: "connected", resyncReviewId: null });
    const rows = await sw.db.select({ id: resyncReviews.id }).from(resyncReviews).where(eq(resyncReviews.tenantId, sw.world.tenantId));
    expect(rows).toHaveLength(1);
  });
});
