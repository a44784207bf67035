// Marketplace → plugin webhooks (Standard Webhooks v1) delivered to a local receiver:
// signatures, retries with the same webhook-id, backoff, 429 Retry-After, 410, timeouts,
// secret rotation, event types.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { start } from "./helpers";
import { ctl, deliveries, mpJson, Receiver, sleep, waitFor, type Json, type Received } from "./marketplace-helpers";

let sb: RunningSandbox;
let base: string;
let rx: Receiver;
let secret: string;

beforeAll(async () => {
  sb = await start();
  base = sb.url;
  rx = await new Receiver().start();
});
afterAll(async () => {
  await sb.close();
  await rx.close();
});
beforeEach(async () => {
  await ctl(base, "POST", "/reset");
  rx.reset();
  await config({ baseDelayMs: 20 });
  const inst = await mpJson<Json>(base, "/installations", { method: "POST", body: { account_id: "RES-1001", product_id: "sage-connector", webhook_url: rx.url } });
  secret = inst.webhook_secret as string;
});

async function config(webhooks: Json): Promise<void> {
  const r = await ctl(base, "POST", "/config", { webhooks });
  expect(r.status).toBe(200);
}

function headersOf(r: Received): Record<string, string> {
  const h = (k: string): string => String(r.headers[k] ?? "");
  return { "webhook-id": h("webhook-id"), "webhook-timestamp": h("webhook-timestamp"), "webhook-signature": h("webhook-signature") };
}

function verify(r: Received, key = secret): Json {
  return new Webhook(key).verify(r.body, headersOf(r)) as Json;
}

async function purchase(customer = "TA-1001-0001", quantity = 10, opts: Json = { webhooks: true }): Promise<Json> {
  const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", orders: [{ type: "purchase", customer_id: customer, items: [{ mpn: "M365-BASIC-M", quantity }] }], ...opts });
  expect(r.status).toBe(201);
  return (r.body.requests as Json[])[0] as Json;
}

const ofType = (type: string): Received[] => rx.received.filter((r) => (JSON.parse(r.body) as Json).type === type);

describe("delivery and signature", () => {
  it("signs order.created (after customer.created) so standardwebhooks verifies it", async () => {
    const req = await purchase();
    await waitFor("two deliveries", () => rx.received.length >= 2);
    const [first, second] = rx.received as [Received, Received];
    const customerEvent = verify(first);
    expect(customerEvent.type).toBe("customer.created");
    expect(customerEvent.data.customer).toMatchObject({ id: "TA-1001-0001", name: "Contoso Ltd", currency: "GBP" });
    const event = verify(second);
    expect(event).toEqual({
      type: "order.created",
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      data: { installation_id: expect.stringMatching(/^EIN-/), account_id: "RES-1001", request: req },
    });
    expect(second.headers["content-type"]).toBe("application/json");
    expect(second.headers["webhook-id"]).toMatch(/^msg_/);
    expect(second.headers["webhook-id"]).not.toBe(first.headers["webhook-id"]);
    expect(String(second.headers["webhook-signature"])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(second.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(10);
    // a wrong secret or a changed body does not verify
    expect(() => verify(second, `whsec_${Buffer.alloc(32, 7).toString("base64")}`)).toThrow();
    expect(() => new Webhook(secret).verify(second.body.replace("Contoso", "Contosa"), headersOf(second))).toThrow();

    // the same customer again: no second customer.created
    await purchase("TA-1001-0001", 3);
    await waitFor("third delivery", () => rx.received.length >= 3);
    await sleep(100);
    expect(ofType("customer.created")).toHaveLength(1);
    expect(ofType("order.created")).toHaveLength(2);
    const log = await deliveries(base, "account=RES-1001");
    expect(log.every((d) => d.outcome === "delivered" && d.status === 200 && d.attempt === 1)).toBe(true);
    expect(log.map((d) => d.type)).toEqual(["customer.created", "order.created", "order.created"]);
  });

  it("sends nothing for bulk orders unless webhooks: true; the generator can send them all", async () => {
    await purchase("TA-1001-0001", 1, {});
    await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 30 } });
    await sleep(200);
    expect(rx.received).toHaveLength(0);
    const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 40 }, webhooks: true });
    expect(r.body.events).toBeGreaterThanOrEqual(40);
    await waitFor("all events", () => rx.received.length >= r.body.events);
    const ids = new Set(ofType("order.created").map((x) => (JSON.parse(x.body) as Json).data.request.id));
    expect(ids).toEqual(new Set(r.body.ids));
    for (const x of rx.received) verify(x);
  });

  it("customer.created, product.updated and order.updated from the control API", async () => {
    const c = (await ctl<Json>(base, "POST", "/marketplace/customers", { account_id: "RES-1001", name: "Hook Co Ltd", email: "ap@hookco.example", currency: "EUR" })).body;
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "M365-BASIC-M", unit_price: "5.40" } });
    const req = await purchase(c.customer.id, 2, {});
    const touched = (await ctl<Json>(base, "POST", "/marketplace/touch-request", { account_id: "RES-1001", request_id: req.id })).body;
    await waitFor("3 events", () => rx.received.length >= 3);
    await sleep(100);
    const events = rx.received.map((x) => verify(x));
    // the customer was announced when it was created, so order.updated comes alone
    expect(events.map((e) => e.type)).toEqual(["customer.created", "product.updated", "order.updated"]);
    expect(events[0]?.data.customer.id).toBe(c.customer.id);
    expect(events[1]?.data.product).toMatchObject({ mpn: "M365-BASIC-M", unit_price: "5.40" });
    expect(events[2]?.data.request).toEqual(touched.request);
  });

  it("no installation: nothing is sent; webhooks disabled: recorded as skipped", async () => {
    await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-7007", orders: [{ type: "purchase", customer_id: "TA-7007-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }] }], webhooks: true });
    await config({ enabled: false });
    await purchase();
    await sleep(150);
    expect(rx.received).toHaveLength(0);
    const log = await deliveries(base);
    expect(log.map((d) => [d.account_id, d.outcome])).toEqual([
      ["RES-1001", "skipped"],
      ["RES-1001", "skipped"],
    ]);
  });

  it("webhook-timestamp uses the real clock even when the sandbox clock is advanced; the body keeps sandbox time", async () => {
    const clock = (await ctl<Json>(base, "POST", "/clock", { advanceSeconds: 3 * 86_400 })).body;
    await purchase();
    await waitFor("deliveries", () => rx.received.length >= 2);
    const e = verify(rx.received[1] as Received);
    expect(Math.abs(Date.parse(e.timestamp) - Date.parse(clock.now))).toBeLessThan(5_000);
  });
});

describe("retries", () => {
  it("retries a 500 with the same webhook-id and a fresh valid signature", async () => {
    rx.behave = (n) => (n === 2 ? 500 : 200);
    await purchase();
    await waitFor("3 requests", () => rx.received.length >= 3);
    const [, failed, retried] = rx.received as [Received, Received, Received];
    expect(retried.headers["webhook-id"]).toBe(failed.headers["webhook-id"]);
    expect(verify(retried)).toEqual(verify(failed));
    const log = await deliveries(base, `event_id=${String(failed.headers["webhook-id"])}`);
    expect(log.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 500, "retry"],
      [2, 200, "delivered"],
    ]);
  });

  it("backs off exponentially from baseDelayMs (1×, 2×, 4×)", async () => {
    await config({ baseDelayMs: 150 });
    await purchase("TA-1001-0001", 1, {});
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "YUBIKEY-5", name: "YubiKey 5 NFC (USB-A)" } });
    rx.behave = (n) => (n <= 3 ? 500 : 200);
    await waitFor("4 attempts", () => rx.received.length >= 4, 10_000);
    const at = rx.received.map((r) => r.at);
    const gaps = [at[1]! - at[0]!, at[2]! - at[1]!, at[3]! - at[2]!];
    console.log(`backoff gaps with baseDelayMs 150: ${gaps.join(", ")} ms`);
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[0]).toBeLessThan(650);
    expect(gaps[1]).toBeGreaterThanOrEqual(290);
    expect(gaps[1]).toBeLessThan(800);
    expect(gaps[2]).toBeGreaterThanOrEqual(590);
    expect(gaps[2]).toBeLessThan(1100);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const log = await deliveries(base);
    expect(log.map((d) => d.retry_in_ms)).toEqual([150, 300, 600, null]);
  });

  it("gives up after maxAttempts", async () => {
    await config({ baseDelayMs: 10, maxAttempts: 3 });
    rx.behave = () => 503;
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "YUBIKEY-5", unit_price: "47.00" } });
    await waitFor("failed", async () => (await deliveries(base, "outcome=failed")).length === 1);
    await sleep(200);
    expect(rx.received).toHaveLength(3);
    expect((await deliveries(base)).map((d) => d.outcome)).toEqual(["retry", "retry", "failed"]);
  });

  it("the default schedule is 1 s, 2 s, 4 s … for 8 attempts", async () => {
    await ctl(base, "POST", "/reset");
    const cfg = (await ctl<Json>(base, "GET", "/config")).body;
    expect(cfg.webhooks).toMatchObject({ enabled: true, baseDelayMs: 1000, maxAttempts: 8, timeoutMs: 15_000 });
  });

  it("honours 429 Retry-After over the backoff", async () => {
    await config({ baseDelayMs: 10 });
    rx.behave = (n) => (n === 1 ? { status: 429, headers: { "retry-after": "1" } } : 200);
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "YUBIKEY-5", unit_price: "46.00" } });
    await waitFor("2 attempts", () => rx.received.length >= 2, 5_000);
    const gap = rx.received[1]!.at - rx.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(rx.received[1]!.headers["webhook-id"]).toBe(rx.received[0]!.headers["webhook-id"]);
    expect((await deliveries(base)).map((d) => [d.status, d.retry_in_ms])).toEqual([
      [429, 1000],
      [200, null],
    ]);
  });

  it("retries when the receiver does not answer within timeoutMs", async () => {
    await config({ baseDelayMs: 10, timeoutMs: 300 });
    rx.behave = (n) => (n === 1 ? "hang" : 200);
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "YUBIKEY-5", unit_price: "44.00" } });
    await waitFor("2 attempts", () => rx.received.length >= 2, 5_000);
    expect(rx.received[1]!.headers["webhook-id"]).toBe(rx.received[0]!.headers["webhook-id"]);
    const log = await deliveries(base);
    expect(log[0]).toMatchObject({ attempt: 1, status: null, outcome: "retry", error: expect.stringMatching(/300 ms/) });
    expect(log[1]).toMatchObject({ attempt: 2, status: 200, outcome: "delivered" });
  });

  it("410 Gone stops retries and disables the endpoint until the plugin registers again", async () => {
    rx.behave = () => 410;
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "YUBIKEY-5", unit_price: "43.00" } });
    await waitFor("gone", async () => (await deliveries(base, "outcome=gone")).length === 1);
    await sleep(200);
    expect(rx.received).toHaveLength(1);
    expect((await ctl<Json>(base, "GET", "/marketplace/state?account=RES-1001")).body.installation.disabled).toBe(true);
    rx.behave = () => 200;
    await purchase();
    await sleep(150);
    expect(rx.received).toHaveLength(1);
    expect((await deliveries(base, "outcome=skipped")).length).toBeGreaterThan(0);
    const again = await mpJson<Json>(base, "/installations", { method: "POST", body: { account_id: "RES-1001", product_id: "sage-connector", webhook_url: rx.url } });
    expect(again.webhook_secret).toBe(secret);
    await purchase("TA-1001-0002", 4);
    await waitFor("delivered again", () => ofType("order.created").length >= 1);
  });
});

describe("secret rotation", () => {
  it("signs with both secrets during a rotation; POST /installations returns the new one", async () => {
    const rot = await ctl<Json>(base, "POST", "/marketplace/rotate-webhook-secret", { account_id: "RES-1001" });
    expect(rot.status).toBe(200);
    const fresh = rot.body.webhook_secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(secret);
    const inst = await mpJson<Json>(base, "/installations", { method: "POST", body: { account_id: "RES-1001", product_id: "sage-connector", webhook_url: rx.url } });
    expect(inst.webhook_secret).toBe(fresh);

    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "BACKUP-50GB", unit_price: "4.20" } });
    await waitFor("delivery", () => rx.received.length >= 1);
    const r = rx.received[0] as Received;
    const sigs = String(r.headers["webhook-signature"]).split(" ");
    expect(sigs).toHaveLength(2);
    for (const s of sigs) expect(s).toMatch(/^v1,/);
    expect(verify(r, fresh).type).toBe("product.updated");
    expect(verify(r, secret).type).toBe("product.updated");

    expect((await ctl<Json>(base, "POST", "/marketplace/end-rotation", { account_id: "RES-1001" })).body.dropped).toBe(1);
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "BACKUP-50GB", unit_price: "4.30" } });
    await waitFor("second delivery", () => rx.received.length >= 2);
    const r2 = rx.received[1] as Received;
    expect(String(r2.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verify(r2, fresh).type).toBe("product.updated");
    expect(() => verify(r2, secret)).toThrow();
  });

  it("rotation needs an installation", async () => {
    expect((await ctl(base, "POST", "/marketplace/rotate-webhook-secret", { account_id: "RES-8008" })).status).toBe(404);
  });
});

describe("orders page sends webhooks", () => {
  it("a subscription placed by form reaches the plugin as order.created", async () => {
    const res = await fetch(`${base}/marketplace/orders`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ account: "RES-1001", action: "purchase", customer_id: "TA-1001-0002", mpn: "M365-STANDARD-M", quantity: "6" }),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const id = new URL(`${base}${res.headers.get("location") ?? ""}`).searchParams.get("request");
    await waitFor("order.created", () => ofType("order.created").length >= 1);
    const e = verify(ofType("order.created")[0] as Received);
    expect(e.data.request.id).toBe(id);
    expect(e.data.request.currency).toBe("EUR");
  });
});
