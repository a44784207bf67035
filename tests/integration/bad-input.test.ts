import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import { and, desc, eq, sql } from "drizzle-orm";
import { SignJWT } from "jose";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog, inboxEvents, installations, marketplaceCustomers, orderWatermarks, syncTasks, tenants } from "@/db/schema";
import { getConfig, resetConfigForTests } from "@/lib/config";
import { encryptSecret } from "@/lib/crypto/envelope";
import { installFromMarketplace } from "@/lib/install/install";
import { refreshFromMarketplace } from "@/lib/mapping/marketplace-refresh";
import { marketplaceRequestSchema } from "@/lib/marketplace/api-schemas";
import { checkChanges, type OrderSource } from "@/lib/marketplace/check-changes";
import { processInboxEvent, receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";
import { startWorld, type World } from "../helpers/world";
import { ensureWebhookSecret, intakeRunner, orderEvent, orderFixture, setNotifications, signed } from "./intake-helpers";

/**
 * Bad input never answers 5xx, and one bad record never blocks a tenant (issue #9): text PostgreSQL
 * cannot store (U+0000, lone surrogates), absurd nesting, a wrong Content-Type, webhook-ids that
 * repeat across installations, a row whose processing fails, odd brands in a signed OAuth state.
 * Real sandbox marketplace over HTTP, real database (PGlite, or PostgreSQL with DATABASE_URL).
 */

const NUL_NAME = "Null\u0000Byte Ltd";
const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

async function until<T>(fn: () => Promise<T | undefined | false | null>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our route handler behind a real HTTP server (the sandbox marketplace posts its webhooks here). */
async function startBridge() {
  const { POST } = await import("@/app/api/marketplace/events/[installationId]/route");
  const server = http.createServer(async (req, res) => {
    const match = /^\/api\/marketplace\/events\/([^/?]+)/.exec(req.url ?? "");
    if (!match || req.method !== "POST") return void res.writeHead(404).end();
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://bridge${req.url}`, { method: "POST", headers, body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } as RequestInit);
    try {
      const response = await POST(request, { params: Promise.resolve({ installationId: match[1]! }) });
      res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text());
    } catch (e) {
      // what Next would answer for a handler that throws
      res.writeHead(500, { "content-type": "text/plain" }).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

type Delivery = { event_id: string; type: string; status: number | null; outcome: string; attempt: number };

describe("bad input at the webhook edge (push)", () => {
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

  const inbox = () => world.db.db.select().from(inboxEvents);
  const tasksFor = (orderId: string) => world.db.db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, world.tenantId), eq(syncTasks.marketplaceOrderId, orderId)));
  const logsAbout = (text: string) => world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), sql`${actionLog.message} like ${`%${text}%`}`));
  const deliver = (req: { headers: Headers; body: string }) => receiveMarketplaceWebhook(world.db.db, { installationId, headers: req.headers, body: req.body }, intake.deps);

  it("a customer named “Null\\u0000Byte Ltd” → 422 naming the path, one Action Log row (also when retried); the tenant's next good order → 202 and its task", async () => {
    const inboxBefore = (await inbox()).length;
    const bad = orderFixture({ customer: { id: "TA-NUL-0001", name: NUL_NAME } });
    const req = signed(secret, orderEvent(bad));
    const res = await deliver(req);
    expect(res).toMatchObject({ status: 422, body: { error: "unstorable_text", path: "$.data.request.asset.tiers.customer.name" } });
    expect(String(res.body.message)).toContain("$.data.request.asset.tiers.customer.name contains U+0000");
    expect((await inbox()).length).toBe(inboxBefore);
    expect(await tasksFor(bad.id)).toHaveLength(0);

    const logs = await logsAbout(bad.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: "action_required", category: "sync", actorType: "marketplace" });
    expect(logs[0]!.message).toContain(`Marketplace order ${bad.id} was not recorded`);
    expect(logs[0]!.message).toContain("asset.tiers.customer.name");
    expect(logs[0]!.message).toContain("Correct it in the marketplace");
    expect(logs[0]!.details).toMatchObject({ source: "push", record: "order", recordId: bad.id, path: "$.data.request.asset.tiers.customer.name", problem: "nul", webhookId: req.id });

    // the marketplace retries the same delivery: same answer, still one row
    expect((await deliver(signed(secret, req.body, { id: req.id }))).status).toBe(422);
    expect(await logsAbout(bad.id)).toHaveLength(1);

    // a customer event with the same name: also refused, named as the customer
    const customerEvent = signed(secret, { type: "customer.created", timestamp: new Date().toISOString(), data: { account_id: "RES-1001", customer: { id: "TA-NUL-0001", name: NUL_NAME } } });
    expect(await deliver(customerEvent)).toMatchObject({ status: 422, body: { path: "$.data.customer.name" } });
    expect((await logsAbout("Marketplace customer TA-NUL-0001 was not accepted"))).toHaveLength(1);

    // the tenant is not blocked: the next good webhook is accepted and becomes a task
    const good = orderFixture();
    expect((await intake.deliver(installationId, signed(secret, orderEvent(good)))).status).toBe(202);
    expect(await tasksFor(good.id)).toEqual([expect.objectContaining({ state: "pending", source: "push" })]);
    // and so is the corrected customer
    const fixed = orderFixture({ customer: { id: "TA-NUL-0001", name: "Null Byte Ltd" } });
    expect((await intake.deliver(installationId, signed(secret, orderEvent(fixed)))).status).toBe(202);
    expect(await tasksFor(fixed.id)).toHaveLength(1);
  });

  it("lone UTF-16 surrogates (in a value or a key) → 422 naming the path; a proper surrogate pair (emoji) is fine", async () => {
    const before = (await inbox()).length;
    const value = orderFixture({ customer: { id: "TA-SUR-0001", name: "Broken \ud800 Ltd" } });
    const res = await deliver(signed(secret, orderEvent(value)));
    expect(res).toMatchObject({ status: 422, body: { error: "unstorable_text", path: "$.data.request.asset.tiers.customer.name" } });
    expect(String(res.body.message)).toMatch(/lone UTF-16 surrogate \(U\+D800\)/);

    const keyed = orderFixture();
    (keyed.asset.items[0] as Record<string, unknown>)["note\udc00"] = "x";
    const res2 = await deliver(signed(secret, orderEvent(keyed)));
    expect(res2).toMatchObject({ status: 422, body: { path: "$.data.request.asset.items[0]" } });
    expect(String(res2.body.message)).toContain("a key in $.data.request.asset.items[0]");
    expect((await inbox()).length).toBe(before);
    expect((await logsAbout(keyed.id))[0]).toMatchObject({ level: "action_required", details: expect.objectContaining({ problem: "lone_surrogate" }) });

    const emoji = orderFixture({ customer: { id: "TA-EMO-0001", name: "Smile 😀 GmbH" } });
    expect((await intake.deliver(installationId, signed(secret, orderEvent(emoji)))).status).toBe(202);
    const [c] = await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.marketplaceCustomerId, "TA-EMO-0001"));
    expect(c!.name).toBe("Smile 😀 GmbH");
  });

  it("100,000-deep nesting → 4xx quickly, signed (422, logged) or not (401), also through the route handler; 64 levels are fine", async () => {
    const before = (await inbox()).length;
    const body = deepJson(100_000);
    const started = performance.now();
    const res = await deliver(signed(secret, body));
    expect(res).toMatchObject({ status: 422, body: { error: "too_deeply_nested", path: "$" } });
    expect(String(res.body.message)).toContain("nested deeper than 64 levels");
    expect(performance.now() - started).toBeLessThan(2_000);

    const unsigned = signed(secret, body, { signature: "v1,bm90LWEtc2lnbmF0dXJl" });
    expect((await deliver(unsigned)).status).toBe(401);

    // an event whose data is deep (arrays this time), through the route handler as Next would call it
    const { POST } = await import("@/app/api/marketplace/events/[installationId]/route");
    const event = { type: "order.created", timestamp: new Date().toISOString(), data: { account_id: "RES-1001", request: { id: "PR-DEEP", extra: JSON.parse(`${"[".repeat(3000)}${"]".repeat(3000)}`) } } };
    const req = signed(secret, event);
    const http422 = await POST(new Request(`http://localhost/api/marketplace/events/${installationId}`, { method: "POST", headers: req.headers, body: req.body }), { params: Promise.resolve({ installationId }) });
    expect(http422.status).toBe(422);
    expect((await http422.json()).error).toBe("too_deeply_nested");
    expect((await inbox()).length).toBe(before);
    expect(await logsAbout("nested deeper than 64 levels")).not.toHaveLength(0);

    // 60 levels of passthrough data inside an order: accepted and stored
    const ok = orderFixture() as Record<string, unknown>;
    ok.extra = JSON.parse(deepJson(55));
    expect((await intake.deliver(installationId, signed(secret, orderEvent(ok as ReturnType<typeof orderFixture>)))).status).toBe(202);
    expect(await tasksFor(String(ok.id))).toHaveLength(1);
  });

  it("signed webhooks must be application/json (optionally ; charset=utf-8): anything else → 415, nothing recorded", async () => {
    const inboxBefore = (await inbox()).length;
    const logBefore = (await world.db.db.select().from(actionLog)).length;
    const order = orderFixture();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx", "multipart/form-data; boundary=x", null]) {
      const req = signed(secret, orderEvent(order));
      if (type === null) req.headers.delete("content-type");
      else req.headers.set("content-type", type);
      const res = await deliver(req);
      expect(res.status, String(type)).toBe(415);
      expect(res.body).toMatchObject({ error: "unsupported_media_type" });
      expect(String(res.body.message)).toContain("application/json");
    }
    expect((await inbox()).length).toBe(inboxBefore);
    expect((await world.db.db.select().from(actionLog)).length).toBe(logBefore);
    expect(await tasksFor(order.id)).toHaveLength(0);

    for (const type of ["application/json; charset=utf-8", "Application/JSON; Charset=\"UTF-8\""]) {
      const o = orderFixture();
      const req = signed(secret, orderEvent(o));
      req.headers.set("content-type", type);
      expect((await intake.deliver(installationId, req)).status, type).toBe(202);
      expect(await tasksFor(o.id)).toHaveLength(1);
    }
  });

  it("dedupe is per installation: another installation's event with the same webhook-id is accepted and processed; a true repeat is still a duplicate", async () => {
    const [other] = await world.db.db.insert(tenants).values({ marketplaceAccountId: "RES-7007", name: "Second Reseller" }).returning();
    const { installation } = await installFromMarketplace(world.db.db, { tenantId: other!.id, marketplaceId: "demo-marketplace", accountId: "RES-7007", actor: world.actor });
    const otherSecret = "whsec_" + Buffer.from("second-installation-secret-0123456789").toString("base64");
    await world.db.db.update(installations).set({ webhookSecretEncrypted: encryptSecret(otherSecret) }).where(eq(installations.id, installation.id));

    const webhookId = `msg_${randomUUID()}`;
    const mine = orderFixture({ id: `PR-SAME-${webhookId}` });
    const theirs = orderFixture({ id: `PR-SAME-${webhookId}`, accountId: "RES-7007" });
    expect((await intake.deliver(installationId, signed(secret, orderEvent(mine), { id: webhookId }))).status).toBe(202);
    expect((await intake.deliver(installation.id, signed(otherSecret, orderEvent(theirs), { id: webhookId }))).status).toBe(202);

    const rows = await world.db.db.select().from(inboxEvents).where(eq(inboxEvents.webhookId, webhookId));
    expect(rows.map((r) => r.installationId).sort()).toEqual([installationId, installation.id].sort());
    expect(rows.every((r) => r.processedAt instanceof Date && r.error === null)).toBe(true);
    const tasks = await world.db.db.select().from(syncTasks).where(eq(syncTasks.marketplaceOrderId, mine.id));
    expect(tasks.map((t) => t.tenantId).sort()).toEqual([world.tenantId, other!.id].sort());

    // the first installation's retry of its own delivery: a duplicate, nothing new
    expect(await intake.deliver(installationId, signed(secret, orderEvent(mine), { id: webhookId }))).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await world.db.db.select().from(inboxEvents).where(eq(inboxEvents.webhookId, webhookId))).toHaveLength(2);
    expect(await world.db.db.select().from(syncTasks).where(eq(syncTasks.marketplaceOrderId, mine.id))).toHaveLength(2);
  });

  it("a row whose processing fails for good (a created date, 10000 BC, PostgreSQL cannot hold) is set aside and logged once; it never holds up the tenant's later webhooks", async () => {
    const broken = orderFixture({ created: "-010000-01-01T00:00:00.000Z" }); // a valid JS date, before timestamptz's 4713 BC
    const brokenReq = signed(secret, orderEvent(broken));
    const good = orderFixture();
    const goodReq = signed(secret, orderEvent(good));
    // both accepted at the edge (valid JSON, storable text); processing of the first fails
    expect((await deliver(brokenReq)).status).toBe(202);
    expect((await deliver(goodReq)).status).toBe(202);
    await intake.runner.drain({ timeoutMs: 15_000 });

    expect(await tasksFor(good.id)).toHaveLength(1);
    expect(await tasksFor(broken.id)).toHaveLength(0);
    const [row] = await world.db.db.select().from(inboxEvents).where(and(eq(inboxEvents.installationId, installationId), eq(inboxEvents.webhookId, brokenReq.id)));
    expect(row!.processedAt).toBeInstanceOf(Date); // closed: not retried, not re-enqueued by a duplicate
    expect(row!.error).toBeTruthy();
    const logs = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), sql`${actionLog.details}->>'webhookId' = ${brokenReq.id}`));
    expect(logs).toEqual([expect.objectContaining({ level: "error", category: "sync" })]);
    expect(logs[0]!.message).toContain("set aside");

    // processing it again (a redelivered Inngest event) changes nothing
    expect(await processInboxEvent(world.db.db, installationId, brokenReq.id)).toMatchObject({ outcome: "already_processed" });
    // the marketplace's retry is a duplicate, and later webhooks go through
    expect((await deliver(signed(secret, brokenReq.body, { id: brokenReq.id }))).status).toBe(200);
    const later = orderFixture();
    expect((await intake.deliver(installationId, signed(secret, orderEvent(later)))).status).toBe(202);
    expect(await tasksFor(later.id)).toHaveLength(1);
  });

  it("a signed OAuth state naming __proto__, constructor or toString is an unknown brand (400), never Object.prototype", async () => {
    const key = new TextEncoder().encode(getConfig().oauthStateSecret);
    for (const brand of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
      const state = await new SignJWT({ brand, tenant: world.tenantId, installation: null, nonce: "n", purpose: "connect" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setAudience("sage-connector/oauth-state").setExpirationTime("5m").sign(key);
      const decision = await decideOAuthRedirect(new URLSearchParams({ state, code: "abc" }));
      expect(decision, brand).toMatchObject({ kind: "reject", status: 400, reason: "unknown_brand" });
    }
    const { GET } = await import("@/app/oauth2redirect/route");
    const state = await new SignJWT({ brand: "__proto__", tenant: world.tenantId, nonce: "n" }).setProtectedHeader({ alg: "HS256" }).setAudience("sage-connector/oauth-state").setExpirationTime("5m").sign(key);
    expect((await GET(new Request(`http://localhost/oauth2redirect?state=${state}`))).status).toBe(400);
  });
});

describe("bad input from the marketplace API (pull: Check Changes, Refresh from marketplace)", () => {
  let world: World;
  const ACCOUNT = "RES-1001";

  beforeAll(async () => {
    world = await startWorld();
    await world.install();
    await world.control("config", { webhooks: { enabled: false } });
  });
  afterAll(async () => world?.close());

  const tasks = () => world.db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, world.tenantId));
  const addCustomer = async (name: string) => ((await world.control("marketplace/customers", { account_id: ACCOUNT, name, email: `billing+${randomUUID().slice(0, 8)}@example.test`, webhooks: false })) as { customer: { id: string } }).customer.id;
  const place = async (customerId: string, quantity: number) =>
    ((await world.control("marketplace/orders", { account_id: ACCOUNT, orders: [{ type: "purchase", customer_id: customerId, items: [{ mpn: "M365-BASIC-M", quantity }] }] })) as { ids: string[] }).ids[0]!;

  it("an order whose customer is named “Null\\u0000Byte Ltd” is skipped and reported; the page's other orders are recorded and the watermark moves past it; once corrected, the next check reads it", async () => {
    const state = await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/state?account=${ACCOUNT}`)).json();
    const contoso = state.customers[0].id as string;
    const nulCustomer = await addCustomer(NUL_NAME);
    const surrogateCustomer = await addCustomer("Half \udbff Pair Ltd");
    const first = await place(contoso, 3);
    const badOrder = await place(nulCustomer, 4);
    const second = await place(contoso, 5);
    const surrogateOrder = await place(surrogateCustomer, 6);
    const third = await place(contoso, 7);

    const result = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect(result).toMatchObject({ ok: true, skipped: 2 });
    expect(result.message).toContain("2 skipped");
    const recorded = (await tasks()).map((t) => t.marketplaceOrderId);
    expect(recorded).toEqual(expect.arrayContaining([first, second, third]));
    expect(recorded).not.toContain(badOrder);
    expect(recorded).not.toContain(surrogateOrder);
    expect(await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.marketplaceCustomerId, nulCustomer))).toHaveLength(0);

    const [log] = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), sql`${actionLog.details}->>'recordId' = ${badOrder}`));
    expect(log).toMatchObject({ level: "action_required", category: "sync", actorType: "user" });
    expect(log!.message).toContain(`Marketplace order ${badOrder} was not recorded (found by Check Changes): $.asset.tiers.customer.name contains U+0000`);
    expect(log!.message).toContain("Correct it in the marketplace");
    expect(log!.details).toMatchObject({ source: "pull", path: "$.asset.tiers.customer.name", problem: "nul" });
    const [surrogateLog] = await world.db.db.select().from(actionLog).where(sql`${actionLog.details}->>'recordId' = ${surrogateOrder}`);
    expect(surrogateLog!.details).toMatchObject({ problem: "lone_surrogate" });

    const requests = ((await (await fetch(`${world.sandbox.url}/marketplace/public/v1/requests?account_id=${ACCOUNT}&limit=500`, { headers: { Authorization: `ApiKey ${getConfig().marketplaces[0]!.secret}` } })).json()) as Array<{ id: string; updated: string }>);
    const newest = requests.map((r) => r.updated).sort().at(-1)!;
    expect(result.watermark).toBe(new Date(newest).toISOString());

    // the next check re-reads from the watermark (inclusive: orders of that second come again) and reports nothing twice
    const again = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect(again).toMatchObject({ ok: true, newTasks: 0 });
    for (const id of [badOrder, surrogateOrder]) expect(await world.db.db.select().from(actionLog).where(sql`${actionLog.details}->>'recordId' = ${id}`)).toHaveLength(1);

    // the marketplace corrects the customer (its requests' snapshot too: their `updated` moves)
    await world.control("clock", { advanceSeconds: 5 });
    await world.control("marketplace/update-customer", { account_id: ACCOUNT, customer_id: nulCustomer, name: "Null Byte Ltd", webhooks: false });
    const fixed = await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect(fixed).toMatchObject({ ok: true, newTasks: 1 });
    const [task] = (await tasks()).filter((t) => t.marketplaceOrderId === badOrder);
    expect(task).toMatchObject({ state: "pending", source: "pull", marketplaceCustomerId: nulCustomer });
  });

  it("an order PostgreSQL refuses while it is recorded (created in 10000 BC) is skipped and reported; the rest of its batch is recorded", async () => {
    const [t] = await world.db.db.insert(tenants).values({ marketplaceAccountId: "RES-8008", name: "Batch Reseller" }).returning();
    await installFromMarketplace(world.db.db, { tenantId: t!.id, marketplaceId: "demo-marketplace", accountId: "RES-8008", actor: world.actor });
    const base = Date.now() - 3600_000;
    const orders = [
      orderFixture({ id: "PR-B1", accountId: "RES-8008", created: new Date(base).toISOString() }),
      { ...orderFixture({ id: "PR-B2", accountId: "RES-8008", created: "-010000-01-01T00:00:00.000Z" }), updated: new Date(base + 1000).toISOString() },
      orderFixture({ id: "PR-B3", accountId: "RES-8008", created: new Date(base + 2000).toISOString() }),
    ];
    // a marketplace API in memory (as in intake-pull.test.ts)
    const source: OrderSource = { async *orders() { for (const o of orders) yield marketplaceRequestSchema.parse(o); } };
    const result = await checkChanges(world.db.db, { tenantId: t!.id, actor: world.actor, source });
    expect(result).toMatchObject({ ok: true, newTasks: 2, skipped: 1, watermark: new Date(base + 2000).toISOString() });
    const ids = (await world.db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, t!.id))).map((x) => x.marketplaceOrderId).sort();
    expect(ids).toEqual(["PR-B1", "PR-B3"]);
    const [log] = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, t!.id), sql`${actionLog.details}->>'recordId' = 'PR-B2'`));
    expect(log).toMatchObject({ level: "action_required", details: expect.objectContaining({ problem: "refused" }) });
    const [mark] = await world.db.db.select().from(orderWatermarks).where(eq(orderWatermarks.tenantId, t!.id));
    expect(mark!.watermark.toISOString()).toBe(new Date(base + 2000).toISOString());
  });

  it("Refresh from marketplace: a customer named “Null\\u0000Byte Ltd” is left out and reported, the others are stored", async () => {
    const result = await refreshFromMarketplace(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect(result.ok).toBe(true);
    const names = (await world.db.db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.tenantId, world.tenantId))).map((c) => c.name);
    expect(names).toContain("Contoso Ltd");
    expect(names).toContain("Null Byte Ltd"); // corrected above
    expect(names.some((n) => n.includes("Half"))).toBe(false);
    const [log] = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), sql`${actionLog.details}->>'source' = 'catalog'`)).orderBy(desc(actionLog.id));
    expect(log).toMatchObject({ level: "action_required", details: expect.objectContaining({ record: "customer", problem: "lone_surrogate", path: "$.name" }) });
    expect(log!.message).toContain("was not accepted (read from the marketplace)");
  });
});

describe("bad input pushed by the sandbox marketplace itself (real webhooks over HTTP)", () => {
  let world: World;
  let bridge: Awaited<ReturnType<typeof startBridge>>;
  let installationId: string;
  const ACCOUNT = "RES-1001";

  beforeAll(async () => {
    world = await startWorld();
    bridge = await startBridge();
    process.env.APP_URL = bridge.url; // the webhook URL registered at install points at the bridge
    resetConfigForTests();
    setDatabaseHandleForTests(world.db);
    ({ installation: { id: installationId } } = await world.install());
    await world.control("config", { webhooks: { enabled: true, baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 3 } });
  });
  afterAll(async () => {
    const { resetInlineRunnerForTests } = await import("@/inngest/send");
    await resetInlineRunnerForTests();
    setDatabaseHandleForTests(undefined);
    await bridge?.close();
    await world?.close();
  });

  const deliveries = async (): Promise<Delivery[]> =>
    (await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/deliveries?account=${ACCOUNT}`)).text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as Delivery);

  it("a new customer “Null\\u0000Byte Ltd” and its order → 422 on every attempt (never 5xx), logged once each; the next good order arrives as a task", async () => {
    const created = (await world.control("marketplace/customers", { account_id: ACCOUNT, name: NUL_NAME, email: "nul@example.test", webhooks: true })) as { customer: { id: string } };
    const order = (await world.control("marketplace/orders", { account_id: ACCOUNT, orders: [{ type: "purchase", customer_id: created.customer.id, items: [{ mpn: "M365-BASIC-M", quantity: 2 }] }], webhooks: true })) as { ids: string[] };
    // every attempt of both events answered, none with 5xx (3 attempts each)
    const attempts = await until(async () => {
      const d = (await deliveries()).filter((x) => x.type === "customer.created" || x.type === "order.created");
      return d.length >= 6 && d.every((x) => x.status !== null) ? d : undefined;
    }, "the marketplace's attempts");
    expect(attempts.every((d) => d.status === 422)).toBe(true);
    const logs = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), sql`${actionLog.details}->>'source' = 'push'`));
    expect(logs.map((l) => l.details.record).sort()).toEqual(["customer", "order"]);
    expect(logs.find((l) => l.details.record === "order")!.message).toContain(`Marketplace order ${order.ids[0]} was not recorded`);

    const state = await (await fetch(`${world.sandbox.url}/__sandbox/marketplace/state?account=${ACCOUNT}`)).json();
    const good = (await world.control("marketplace/orders", { account_id: ACCOUNT, orders: [{ type: "purchase", customer_id: state.customers[0].id, items: [{ mpn: "M365-BASIC-M", quantity: 9 }] }], webhooks: true })) as { ids: string[] };
    const task = await until(async () => (await world.db.db.select().from(syncTasks).where(eq(syncTasks.marketplaceOrderId, good.ids[0]!)))[0], "the good order's task");
    expect(task).toMatchObject({ source: "push", state: "pending" });
    const goodDelivery = (await deliveries()).filter((d) => d.type === "order.created").at(-1)!;
    expect(goodDelivery).toMatchObject({ status: 202, outcome: "delivered" });
    expect((await world.db.db.select().from(inboxEvents).where(eq(inboxEvents.installationId, installationId))).every((r) => r.error === null)).toBe(true);
  });
});
