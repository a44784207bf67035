import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomBytes, randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { actionLog, inboxEvents, marketplaceCustomers, marketplaceProducts, syncTasks } from "@/db/schema";
import { MAX_WEBHOOK_BODY_BYTES, receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { SUSPEND_RESUME_REASON } from "@/lib/tasks/order-to-task";
import { startWorld, type World } from "../helpers/world";
import { ensureWebhookSecret, intakeRunner, orderEvent, orderFixture, setNotifications, signed } from "./intake-helpers";

describe("marketplace webhooks (push): verify → inbox → task", () => {
  let world: World;
  let installationId: string;
  let secret: string;
  let intake: ReturnType<typeof intakeRunner>;

  beforeAll(async () => {
    world = await startWorld();
    await world.install();
    ({ installationId, secret } = await ensureWebhookSecret(world));
    intake = intakeRunner(world);
  });
  afterAll(async () => {
    await intake?.stop();
    await world?.close();
  });
  beforeEach(async () => setNotifications(world, "errors_and_actions"));

  const inboxCount = async () => (await world.db.db.select().from(inboxEvents)).length;
  const tasksFor = (orderId: string) => world.db.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, world.tenantId), eq(syncTasks.marketplaceOrderId, orderId)));

  it("a signed order.created → 202, one pending Sales task with per-item deltas, customer upserted, inbox row processed", async () => {
    const order = orderFixture({ items: [{ mpn: "M365-BASIC-M", quantity: "10", old_quantity: "0" }, { mpn: "BACKUP-50GB", quantity: "2" }] });
    const req = signed(secret, orderEvent(order));
    const res = await intake.deliver(installationId, req);
    expect(res).toMatchObject({ status: 202, body: { accepted: true, webhookId: req.id } });
    const [task] = await tasksFor(order.id);
    expect(task).toMatchObject({ state: "pending", orderType: "sales", requestType: "purchase", source: "push", marketplaceCustomerId: "TA-1001-0001", currency: "GBP", billingPeriod: "monthly", reason: null });
    expect(task!.items).toEqual([
      expect.objectContaining({ mpn: "M365-BASIC-M", quantity: 10, oldQuantity: 0, change: "added", delta: 10 }),
      expect.objectContaining({ mpn: "BACKUP-50GB", quantity: 2, oldQuantity: 0, change: "added", delta: 2 }),
    ]);
    const [customer] = await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.marketplaceCustomerId, "TA-1001-0001"));
    expect(customer).toMatchObject({ tenantId: world.tenantId, name: "Contoso Ltd", email: "billing@contoso.example" });
    const [inbox] = await world.db.db.select().from(inboxEvents).where(eq(inboxEvents.webhookId, req.id));
    expect(inbox!.processedAt).toBeInstanceOf(Date);
    expect(inbox!.error).toBeNull();
  });

  it("bad signature → 401 and no inbox row", async () => {
    const before = await inboxCount();
    const order = orderFixture();
    const wrongSecret = `whsec_${randomBytes(32).toString("base64")}`;
    const forged = signed(wrongSecret, orderEvent(order));
    const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: forged.headers, body: forged.body }, intake.deps);
    expect(res.status).toBe(401);
    expect(String(res.body.message)).toMatch(/signature/i);
    // a valid signature over another body does not vouch for this one
    const good = signed(secret, orderEvent(order));
    const tampered = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: good.headers, body: good.body.replace('"10"', '"1000"') }, intake.deps);
    expect(tampered.status).toBe(401);
    const missing = new Headers(good.headers);
    missing.delete("webhook-signature");
    expect((await receiveMarketplaceWebhook(world.db.db, { installationId, headers: missing, body: good.body }, intake.deps)).status).toBe(401);
    expect(await inboxCount()).toBe(before);
    expect(await tasksFor(order.id)).toHaveLength(0);
  });

  it("stale (or far future) timestamp → 401 even with a correct signature", async () => {
    const before = await inboxCount();
    const order = orderFixture();
    for (const offset of [-6 * 60_000, +6 * 60_000]) {
      const req = signed(secret, orderEvent(order), { at: new Date(Date.now() + offset) });
      const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: req.headers, body: req.body }, intake.deps);
      expect(res.status).toBe(401);
      expect(String(res.body.message)).toMatch(/5 minutes/);
    }
    // within tolerance is fine
    const ok = signed(secret, orderEvent(order), { at: new Date(Date.now() - 4 * 60_000) });
    expect((await intake.deliver(installationId, ok)).status).toBe(202);
    expect(await inboxCount()).toBe(before + 1);
  });

  it("several signatures (secret rotation): any one valid signature is enough", async () => {
    const oldSecret = `whsec_${randomBytes(32).toString("base64")}`;
    const order = orderFixture();
    const body = JSON.stringify(orderEvent(order));
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    const { Webhook } = await import("standardwebhooks");
    const req = signed(secret, body, { id, at, extraSignatures: [new Webhook(oldSecret).sign(id, at, body), "v1a,bm90LWVkMjU1MTk="] });
    expect(req.headers.get("webhook-signature")!.split(" ")).toHaveLength(3);
    expect((await intake.deliver(installationId, req)).status).toBe(202);
    expect(await tasksFor(order.id)).toHaveLength(1);
  });

  it("duplicate webhook-id → 200 {duplicate:true}; a retried delivery (new timestamp and signature) creates exactly one task", async () => {
    const order = orderFixture();
    const first = signed(secret, orderEvent(order));
    expect((await intake.deliver(installationId, first)).status).toBe(202);
    const inboxBefore = await inboxCount();
    const logBefore = (await world.db.db.select().from(actionLog)).length;

    const same = await intake.deliver(installationId, { headers: first.headers, body: first.body });
    expect(same).toMatchObject({ status: 200, body: { duplicate: true } });
    // the marketplace's retry: same webhook-id, signed again a few seconds later
    const retry = signed(secret, first.body, { id: first.id, at: new Date(Date.now() + 3_000) });
    expect(await intake.deliver(installationId, retry)).toMatchObject({ status: 200, body: { duplicate: true } });

    expect(await inboxCount()).toBe(inboxBefore);
    expect(await tasksFor(order.id)).toHaveLength(1);
    expect((await world.db.db.select().from(actionLog)).length).toBe(logBefore);
  });

  it("the same order in two different deliveries (two webhook-ids, even concurrently) is still one task", async () => {
    await setNotifications(world, "all_tasks");
    const order = orderFixture();
    const a = signed(secret, orderEvent(order));
    const b = signed(secret, orderEvent(order));
    const results = await Promise.all([a, b].map((r) => receiveMarketplaceWebhook(world.db.db, { installationId, headers: r.headers, body: r.body }, intake.deps)));
    expect(results.map((r) => r.status)).toEqual([202, 202]);
    await intake.runner.drain();
    const tasks = await tasksFor(order.id);
    expect(tasks).toHaveLength(1);
    const logs = await world.db.db.select().from(actionLog).where(eq(actionLog.taskId, tasks[0]!.id));
    expect(logs).toHaveLength(1);
    expect(logs[0]!.message).toContain(`New Sales task for order ${order.id} (Contoso Ltd), pushed by the marketplace: 10 × M365-BASIC-M added`);
  });

  it("malformed JSON (validly signed) → 400 naming the problem, no inbox row", async () => {
    const before = await inboxCount();
    const req = signed(secret, '{"type": "order.created", "data": {');
    const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: req.headers, body: req.body }, intake.deps);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "malformed_json" });
    expect(String(res.body.message)).toMatch(/not valid JSON/);
    expect(await inboxCount()).toBe(before);
  });

  it("unknown event type → 400 naming the type; a known type with a wrong shape → 400 naming the field", async () => {
    const before = await inboxCount();
    const unknown = signed(secret, { type: "subscription.exploded", timestamp: new Date().toISOString(), data: {} });
    const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: unknown.headers, body: unknown.body }, intake.deps);
    expect(res).toMatchObject({ status: 400, body: { error: "unknown_event_type" } });
    expect(String(res.body.message)).toContain("subscription.exploded");

    const order = orderFixture() as Record<string, unknown>;
    delete order.created;
    const bad = signed(secret, { type: "order.created", timestamp: new Date().toISOString(), data: { account_id: "RES-1001", request: order } });
    const res2 = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: bad.headers, body: bad.body }, intake.deps);
    expect(res2).toMatchObject({ status: 400, body: { error: "invalid_event" } });
    expect(String(res2.body.message)).toContain("data.request.created");

    const otherAccount = signed(secret, orderEvent(orderFixture({ accountId: "RES-9999" })));
    const res3 = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: otherAccount.headers, body: otherAccount.body }, intake.deps);
    expect(res3).toMatchObject({ status: 400, body: { error: "wrong_account" } });
    expect(await inboxCount()).toBe(before);
  });

  it("body over 1 MB → 413, by Content-Length and by the bytes actually sent (streamed, no header)", async () => {
    const before = await inboxCount();
    const huge = JSON.stringify({ ...orderEvent(orderFixture()), padding: "x".repeat(MAX_WEBHOOK_BODY_BYTES) });
    const req = signed(secret, huge);
    const declared = new Headers(req.headers);
    declared.set("content-length", String(Buffer.byteLength(huge)));
    expect((await receiveMarketplaceWebhook(world.db.db, { installationId, headers: declared, body: req.body }, intake.deps)).status).toBe(413);

    // a sender that lies (or says nothing) about the length: the stream is cut off after 1 MB
    const lying = new Headers(req.headers);
    lying.set("content-length", "100");
    const bytes = new TextEncoder().encode(huge);
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const start = pulls * 64 * 1024;
        pulls += 1;
        if (start >= bytes.length) controller.close();
        else controller.enqueue(bytes.slice(start, start + 64 * 1024));
      },
    });
    const res = await receiveMarketplaceWebhook(world.db.db, { installationId, headers: lying, body: stream }, intake.deps);
    expect(res.status).toBe(413);
    expect(pulls).toBeLessThanOrEqual(18); // stopped reading just past 1 MB
    expect(await inboxCount()).toBe(before);
  });

  it("unknown installation → 404 (also for an id that is not a UUID)", async () => {
    const req = signed(secret, orderEvent(orderFixture()));
    expect((await receiveMarketplaceWebhook(world.db.db, { installationId: randomUUID(), headers: req.headers, body: req.body }, intake.deps)).status).toBe(404);
    expect((await receiveMarketplaceWebhook(world.db.db, { installationId: "not-a-uuid", headers: req.headers, body: req.body }, intake.deps)).status).toBe(404);
  });

  it("a quantity that is not a number → action_required naming the item and the value (logged as action required), never a crash", async () => {
    const order = orderFixture({ items: [{ mpn: "M365-BASIC-M", quantity: "10" }, { mpn: "BACKUP-50GB", quantity: "ten", old_quantity: "2" }] });
    const req = signed(secret, orderEvent(order));
    expect((await intake.deliver(installationId, req)).status).toBe(202);
    const [task] = await tasksFor(order.id);
    expect(task!.state).toBe("action_required");
    expect(task!.reason).toContain("BACKUP-50GB");
    expect(task!.reason).toContain("“ten”");
    expect(task!.items[1]).toMatchObject({ mpn: "BACKUP-50GB", invalid: expect.stringContaining("“ten”") });
    const logs = await world.db.db.select().from(actionLog).where(eq(actionLog.taskId, task!.id));
    expect(logs).toEqual([expect.objectContaining({ level: "action_required", category: "sync", actorType: "marketplace", message: expect.stringContaining("needs action") })]);
  });

  it("order types and item deltas: change (upgrade/downgrade/added/removed), billing (usage), cancel; suspend/resume are ignored", async () => {
    const change = orderFixture({
      type: "change",
      items: [
        { mpn: "A-UP", quantity: "15", old_quantity: "10" },
        { mpn: "B-DOWN", quantity: "3", old_quantity: "5" },
        { mpn: "C-NEW", quantity: "1", old_quantity: "0" },
        { mpn: "D-GONE", quantity: "0", old_quantity: "4" },
        { mpn: "E-SAME", quantity: "2", old_quantity: "2" },
      ],
    });
    const billing = orderFixture({ type: "billing", items: [{ mpn: "BACKUP-OVERAGE-GB", quantity: "12.5", old_quantity: "0" }] });
    const cancel = orderFixture({ type: "cancel", items: [{ mpn: "M365-BASIC-M", quantity: "0", old_quantity: "10" }, { mpn: "FEE-CANCEL", quantity: "1", old_quantity: "0" }] });
    const suspend = orderFixture({ type: "suspend", items: [{ mpn: "M365-BASIC-M", quantity: "10", old_quantity: "10" }] });
    const resume = orderFixture({ type: "resume", items: [{ mpn: "M365-BASIC-M", quantity: "10", old_quantity: "10" }] });
    for (const o of [change, billing, cancel, suspend, resume]) expect((await intake.deliver(installationId, signed(secret, orderEvent(o)))).status).toBe(202);

    const [c] = await tasksFor(change.id);
    expect(c).toMatchObject({ orderType: "change", state: "pending" });
    expect(c!.items.map((i) => [i.mpn, i.change, i.delta])).toEqual([
      ["A-UP", "upgrade", 5],
      ["B-DOWN", "downgrade", -2],
      ["C-NEW", "added", 1],
      ["D-GONE", "removed", -4],
      ["E-SAME", "unchanged", 0],
    ]);
    const [b] = await tasksFor(billing.id);
    expect(b).toMatchObject({ orderType: "billing", state: "pending" });
    expect(b!.items[0]).toMatchObject({ change: "usage", quantity: 12.5 });
    const [x] = await tasksFor(cancel.id);
    expect(x).toMatchObject({ orderType: "cancellation", state: "pending" });
    expect(x!.items.map((i) => i.change)).toEqual(["removed", "added"]);
    for (const o of [suspend, resume]) {
      const [t] = await tasksFor(o.id);
      expect(t).toMatchObject({ state: "ignored", reason: SUSPEND_RESUME_REASON, requestType: o.type });
    }
  });

  it("order.updated refreshes a task that is still pending; an older version changes nothing; a synced task is never touched", async () => {
    const created = new Date(Date.now() - 120_000).toISOString();
    const v1 = orderFixture({ type: "change", created, items: [{ mpn: "M365-BASIC-M", quantity: "12", old_quantity: "10" }] });
    expect((await intake.deliver(installationId, signed(secret, orderEvent(v1)))).status).toBe(202);
    const v2 = { ...v1, updated: new Date(Date.now() - 60_000).toISOString(), asset: { ...v1.asset, items: [{ ...v1.asset.items[0]!, quantity: "14" }] } };
    expect((await intake.deliver(installationId, signed(secret, orderEvent(v2, "order.updated")))).status).toBe(202);
    let [t] = await tasksFor(v1.id);
    expect(t!.items[0]).toMatchObject({ quantity: 14, delta: 4, change: "upgrade" });
    // the older version arrives late: ignored
    expect((await intake.deliver(installationId, signed(secret, orderEvent(v1, "order.updated")))).status).toBe(202);
    [t] = await tasksFor(v1.id);
    expect(t!.items[0]).toMatchObject({ quantity: 14 });
    // once synced, a newer version does not change it
    await world.db.db.update(syncTasks).set({ state: "synced" }).where(eq(syncTasks.id, t!.id));
    const v3 = { ...v2, updated: new Date().toISOString(), asset: { ...v2.asset, items: [{ ...v2.asset.items[0]!, quantity: "20" }] } };
    expect((await intake.deliver(installationId, signed(secret, orderEvent(v3, "order.updated")))).status).toBe(202);
    [t] = await tasksFor(v1.id);
    expect(t).toMatchObject({ state: "synced" });
    expect(t!.items[0]).toMatchObject({ quantity: 14 });
  });

  it("customer and product events upsert the catalog", async () => {
    const customer = { id: "TA-1001-0042", name: "Fabrikam Ireland Ltd", external_id: "42", contact_info: { email: "Accounts@Fabrikam.example", contact_name: "Fiona" }, currency: "EUR", created: new Date().toISOString(), updated: new Date().toISOString() };
    const product = { id: "PRD-100-042", mpn: "YUBIKEY-5", name: "YubiKey 5 NFC", description: "key", unit_price: "45.00", currency: "GBP", billing_period: "one_time", type: "item", fee_kind: null, updated: new Date().toISOString() };
    expect((await intake.deliver(installationId, signed(secret, { type: "customer.created", timestamp: new Date().toISOString(), data: { account_id: "RES-1001", customer } }))).status).toBe(202);
    expect((await intake.deliver(installationId, signed(secret, { type: "product.created", timestamp: new Date().toISOString(), data: { account_id: "RES-1001", product } }))).status).toBe(202);
    const [c] = await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.marketplaceCustomerId, customer.id));
    expect(c).toMatchObject({ name: "Fabrikam Ireland Ltd", email: "accounts@fabrikam.example", currency: "EUR" });
    const [p] = await world.db.db.select().from(marketplaceProducts).where(eq(marketplaceProducts.marketplaceProductId, product.id));
    expect(p).toMatchObject({ mpn: "YUBIKEY-5", kind: "item", billingPeriod: "one_time" });
    // an order's thin customer copy does not wipe what the full record told us
    const order = orderFixture({ customer: { id: customer.id, name: "Fabrikam Ireland Ltd", currency: "EUR" } });
    expect((await intake.deliver(installationId, signed(secret, orderEvent(order)))).status).toBe(202);
    const [c2] = await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.marketplaceCustomerId, customer.id));
    expect(c2).toMatchObject({ email: "accounts@fabrikam.example" });
    expect((c2!.raw as { contact_info?: { contact_name?: string } }).contact_info?.contact_name).toBe("Fiona");
  });

  it("notifications: 'errors and actions required' logs no pending task; 'all tasks' logs each created task", async () => {
    const quiet = orderFixture();
    expect((await intake.deliver(installationId, signed(secret, orderEvent(quiet)))).status).toBe(202);
    const [q] = await tasksFor(quiet.id);
    expect(await world.db.db.select().from(actionLog).where(eq(actionLog.taskId, q!.id))).toHaveLength(0);

    await setNotifications(world, "all_tasks");
    const loud = orderFixture();
    expect((await intake.deliver(installationId, signed(secret, orderEvent(loud)))).status).toBe(202);
    const [l] = await tasksFor(loud.id);
    expect(await world.db.db.select().from(actionLog).where(eq(actionLog.taskId, l!.id))).toEqual([expect.objectContaining({ level: "info", category: "sync" })]);
  });

  it("the route handler: raw body in, JSON out (202, then 200 duplicate)", async () => {
    const { POST } = await import("@/app/api/marketplace/events/[installationId]/route");
    const { resetInlineRunnerForTests } = await import("@/inngest/send");
    try {
      const order = orderFixture();
      const req = signed(secret, orderEvent(order));
      const call = () => POST(new Request(`http://localhost/api/marketplace/events/${installationId}`, { method: "POST", headers: req.headers, body: req.body }), { params: Promise.resolve({ installationId }) });
      const res = await call();
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ accepted: true, webhookId: req.id });
      const again = await call();
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ duplicate: true });
      const deadline = Date.now() + 10_000;
      while ((await tasksFor(order.id)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await tasksFor(order.id)).toHaveLength(1);
    } finally {
      await resetInlineRunnerForTests();
    }
  });
});
