// Marketplace orders over HTTP: Connect-shaped requests, subscription state (old_quantity),
// the bulk generator (20,000 orders), the malformed-quantity order, the HTML orders page, reset.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { start } from "./helpers";
import { ctl, listAll, mpJson, type Json } from "./marketplace-helpers";

let sb: RunningSandbox;
let base: string;

beforeAll(async () => {
  sb = await start();
  base = sb.url;
});
afterAll(async () => {
  await sb.close();
});
beforeEach(async () => {
  await ctl(base, "POST", "/reset");
});

async function order(o: Json, account = "RES-1001"): Promise<Json> {
  const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: account, orders: [o] });
  if (r.status !== 201) throw new Error(`order failed: ${r.status} ${JSON.stringify(r.body)}`);
  const req = (r.body.requests as Json[])[0];
  if (!req) throw new Error("no request");
  return req;
}

async function orderError(o: Json): Promise<Json> {
  const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", orders: [o] });
  expect(r.status).toBe(400);
  return r.body;
}

const items = (r: Json): Json[] => r.asset.items as Json[];

describe("order shapes", () => {
  it("a purchase is a Connect-style fulfillment request with string quantities", async () => {
    const r = await order({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 10 }] });
    expect(r).toEqual({
      id: expect.stringMatching(/^PR-1001-\d{4}-\d{4}$/),
      type: "purchase",
      status: "approved",
      created: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      updated: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      currency: "GBP",
      billing_period: "monthly",
      asset: {
        id: expect.stringMatching(/^AS-1001-/),
        external_id: expect.any(String),
        product: { id: "CN-783-317-575", name: "Microsoft 365" },
        items: [{ id: expect.stringMatching(/^PRD-1001-/), mpn: "M365-BASIC-M", quantity: "10", old_quantity: "0", unit_price: "5.10", name: "Microsoft 365 Business Basic (monthly)" }],
        tiers: { customer: { id: "TA-1001-0001", name: "Contoso Ltd", contact_info: { email: "billing@contoso.example" }, currency: "GBP" } },
      },
      marketplace: { id: "demo-marketplace" },
      account_id: "RES-1001",
    });
    expect(r.created).toBe(r.updated);
  });

  it("timestamps follow the sandbox clock", async () => {
    const clock = (await ctl<Json>(base, "POST", "/clock", { advanceSeconds: 86_400 * 10 })).body;
    const r = await order({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }] });
    expect(Math.abs(Date.parse(r.created) - Date.parse(clock.now))).toBeLessThan(5_000);
  });

  it("tracks the subscription: upgrade, downgrade, suspend, resume, usage, cancel with fee", async () => {
    const p = await order({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 10 }] });
    const sub = p.asset.id as string;

    const up = await order({ type: "change", subscription_id: sub, items: [{ mpn: "M365-BASIC-M", quantity: 15 }] });
    expect(up.type).toBe("change");
    expect(up.asset.id).toBe(sub);
    expect(items(up)).toEqual([expect.objectContaining({ mpn: "M365-BASIC-M", quantity: "15", old_quantity: "10" })]);

    // without subscription_id: the customer's subscription holding the mpn
    const down = await order({ type: "change", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: "12" }] });
    expect(down.asset.id).toBe(sub);
    expect(items(down)).toEqual([expect.objectContaining({ mpn: "M365-BASIC-M", quantity: "12", old_quantity: "15" })]);

    // add a second item to the same subscription
    const add = await order({ type: "change", subscription_id: sub, items: [{ mpn: "M365-STANDARD-M", quantity: 3 }] });
    expect(items(add).map((i) => [i.mpn, i.quantity, i.old_quantity])).toEqual([
      ["M365-BASIC-M", "12", "12"],
      ["M365-STANDARD-M", "3", "0"],
    ]);

    const susp = await order({ type: "suspend", subscription_id: sub });
    expect(items(susp).map((i) => [i.mpn, i.quantity, i.old_quantity])).toEqual([
      ["M365-BASIC-M", "12", "12"],
      ["M365-STANDARD-M", "3", "3"],
    ]);
    expect((await orderError({ type: "change", subscription_id: sub, items: [{ mpn: "M365-BASIC-M", quantity: 20 }] })).message).toMatch(/suspended/);
    expect((await order({ type: "resume", subscription_id: sub })).type).toBe("resume");

    const usage = await order({ type: "billing", subscription_id: sub, items: [{ mpn: "BACKUP-OVERAGE-GB", quantity: 37.5 }] });
    expect(items(usage)).toEqual([expect.objectContaining({ mpn: "BACKUP-OVERAGE-GB", quantity: "37.5", old_quantity: "0", unit_price: "0.05" })]);

    const cancel = await order({ type: "cancel", subscription_id: sub });
    expect(items(cancel).map((i) => [i.mpn, i.quantity, i.old_quantity])).toEqual([
      ["M365-BASIC-M", "0", "12"],
      ["M365-STANDARD-M", "0", "3"],
      ["FEE-CANCEL", "1", "0"],
    ]);
    expect(items(cancel)[2]).toMatchObject({ unit_price: "25.00", name: "Early cancellation fee" });
    expect((await orderError({ type: "cancel", subscription_id: sub })).message).toMatch(/terminated/);

    const state = (await ctl<Json>(base, "GET", "/marketplace/state?account=RES-1001")).body;
    const s = (state.subscriptions as Json[]).find((x) => x.id === sub);
    expect(s).toMatchObject({ status: "terminated", items: [], customer_id: "TA-1001-0001" });
    expect(s?.request_ids).toHaveLength(8);
    for (const r of [p, up, down, add, susp, usage, cancel]) for (const i of items(r)) expect(typeof i.quantity).toBe("string");
  });

  it("cancel without the fee when asked; the subscription's request history is readable through the API", async () => {
    const p = await order({ type: "purchase", customer_id: "TA-1001-0003", items: [{ mpn: "BACKUP-50GB", quantity: 2 }] });
    const c = await order({ type: "cancel", customer_id: "TA-1001-0003", cancellation_fee: false });
    expect(c.asset.id).toBe(p.asset.id);
    expect(items(c).map((i) => [i.mpn, i.quantity, i.old_quantity])).toEqual([["BACKUP-50GB", "0", "2"]]);
    const got = await mpJson<Json>(base, `/requests/${c.id}`);
    expect(got).toEqual(c);
  });

  it("EUR customers order in EUR at EUR prices", async () => {
    const customers = await mpJson<Json[]>(base, "/customers?account_id=RES-1001");
    const eur = customers.find((c) => c.currency === "EUR") as Json;
    const r = await order({ type: "purchase", customer_id: eur.id, items: [{ mpn: "M365-STANDARD-Y", quantity: 5 }] });
    expect(r.currency).toBe("EUR");
    expect(r.billing_period).toBe("yearly");
    expect(r.asset.tiers.customer.currency).toBe("EUR");
    expect(items(r)[0]?.unit_price).toBe("128.70");
  });

  it("refuses invalid orders with 400 and the index of the failing one", async () => {
    expect((await orderError({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "NOPE", quantity: 1 }] })).message).toMatch(/unknown mpn/);
    expect((await orderError({ type: "purchase", customer_id: "TA-9999-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }] })).message).toMatch(/unknown customer/);
    expect((await orderError({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "FEE-CANCEL", quantity: 1 }] })).message).toMatch(/fee/);
    expect((await orderError({ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 0 }] })).message).toMatch(/≥ 1/);
    expect((await orderError({ type: "change", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 2 }] })).message).toMatch(/no active subscription/);
    const bad = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", orders: [{ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: "ten" }] }] });
    expect(bad.status).toBe(400);
    const partial = await ctl<Json>(base, "POST", "/marketplace/orders", {
      account_id: "RES-1001",
      orders: [
        { type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }] },
        { type: "resume", customer_id: "TA-1001-0001" },
      ],
    });
    expect(partial.status).toBe(400);
    expect(partial.body).toMatchObject({ error: "invalid_order", index: 1, ids: [expect.stringMatching(/^PR-/)] });
  });
});

describe("malformed order", () => {
  it("creates a purchase whose item quantity is not a number", async () => {
    const r = await ctl<Json>(base, "POST", "/marketplace/malformed-order", { account_id: "RES-1001", quantity: "ten" });
    expect(r.status).toBe(201);
    const req = await mpJson<Json>(base, `/requests/${r.body.id}`);
    expect(req.type).toBe("purchase");
    expect(items(req)[0]).toMatchObject({ mpn: "M365-BASIC-M", quantity: "ten", old_quantity: "0" });
    expect(Number.isNaN(Number(items(req)[0]?.quantity))).toBe(true);
    const listed = await mpJson<Json[]>(base, "/requests?account_id=RES-1001");
    expect(listed.map((x) => x.id)).toContain(r.body.id);
  });
});

describe("generator", () => {
  it("creates 20,000 consistent orders quickly (old_quantity always the previous quantity)", async () => {
    const t0 = performance.now();
    const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 20_000 } });
    const ms = performance.now() - t0;
    console.log(`generator: 20,000 orders in ${Math.round(ms)} ms over HTTP (server ${r.body.duration_ms} ms)`);
    expect(r.status).toBe(201);
    expect(r.body.count).toBe(20_000);
    expect(r.body.events).toBe(0);
    expect(ms).toBeLessThan(5_000);

    const t1 = performance.now();
    const all = await listAll(base, "/requests?account_id=RES-1001");
    console.log(`generator: read back 20,000 requests in ${Math.round(performance.now() - t1)} ms (limit 1000)`);
    expect(all).toHaveLength(20_000);
    const types = new Map<string, number>();
    for (const q of all) types.set(q.type, (types.get(q.type) ?? 0) + 1);
    for (const t of ["purchase", "change", "cancel", "billing", "suspend", "resume"]) expect(types.get(t) ?? 0, t).toBeGreaterThan(0);

    // Replay per asset, in id (= creation) order: every quantity change starts from the last one.
    const byId = [...all].sort((a, b) => (a.id < b.id ? -1 : 1));
    const assets = new Map<string, Map<string, number>>();
    const status = new Map<string, string>();
    for (const q of byId) {
      const asset = q.asset.id as string;
      const qty = assets.get(asset) ?? new Map<string, number>();
      for (const i of items(q)) {
        expect(typeof i.quantity).toBe("string");
        expect(typeof i.old_quantity).toBe("string");
      }
      if (q.type === "purchase") {
        expect(assets.has(asset)).toBe(false);
        for (const i of items(q)) {
          expect(i.old_quantity).toBe("0");
          qty.set(i.mpn, Number(i.quantity));
        }
        status.set(asset, "active");
      } else if (q.type === "change" || q.type === "cancel") {
        expect(status.get(asset), `${q.id} ${q.type}`).not.toBe("terminated");
        for (const i of items(q)) {
          if (i.mpn === "FEE-CANCEL") continue;
          expect(Number(i.old_quantity), `${q.id} ${i.mpn}`).toBe(qty.get(i.mpn) ?? 0);
          qty.set(i.mpn, Number(i.quantity));
        }
        if (q.type === "cancel") {
          for (const v of qty.values()) expect(v).toBe(0);
          status.set(asset, "terminated");
        }
      } else if (q.type === "suspend" || q.type === "resume") {
        expect(status.get(asset)).toBe(q.type === "suspend" ? "active" : "suspended");
        status.set(asset, q.type === "suspend" ? "suspended" : "active");
        for (const i of items(q)) expect(i.quantity).toBe(i.old_quantity);
      } else if (q.type === "billing") {
        for (const i of items(q)) expect(i.old_quantity).toBe("0");
      }
      assets.set(asset, qty);
    }
    const state = (await ctl<Json>(base, "GET", "/marketplace/state?account=RES-1001")).body;
    expect(state.counts.requests).toBe(20_000);
    expect(state.counts.subscriptions).toBe(types.get("purchase"));
  });

  it("restricts types and customers, spreads times with backdate_days", async () => {
    const r = await ctl<Json>(base, "POST", "/marketplace/orders", {
      account_id: "RES-1001",
      generate: { count: 60, types: ["purchase", "change"], customer_ids: ["TA-1001-0002"], backdate_days: 40 },
    });
    expect(r.status).toBe(201);
    const all = await mpJson<Json[]>(base, "/requests?account_id=RES-1001");
    expect(new Set(all.map((q) => q.type))).toEqual(new Set(["purchase", "change"]));
    expect(new Set(all.map((q) => q.asset.tiers.customer.id))).toEqual(new Set(["TA-1001-0002"]));
    const times = all.map((q) => Date.parse(q.created));
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(39 * 86_400_000);
    const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const recent = await mpJson<Json[]>(base, `/requests?account_id=RES-1001&updated_since=${encodeURIComponent(monthAgo)}`);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(60);
  });

  it("refuses bad generator input", async () => {
    expect((await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 0 } })).status).toBe(400);
    expect((await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 5, types: ["refund"] } })).status).toBe(400);
    expect((await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001" })).status).toBe(400);
    expect((await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 5, customer_ids: ["TA-0000-0000"] } })).status).toBe(400);
  });
});

describe("orders page", () => {
  const form = (fields: Record<string, string>): Promise<Response> =>
    fetch(`${base}/marketplace/orders`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields), redirect: "manual" });

  async function submit(fields: Record<string, string>): Promise<string> {
    const res = await form(fields);
    expect(res.status).toBe(303);
    const loc = res.headers.get("location") ?? "";
    expect(loc.startsWith("/marketplace/orders")).toBe(true);
    return (await fetch(`${base}${loc}`)).text();
  }

  it("has labelled controls and named buttons", async () => {
    const res = await fetch(`${base}/marketplace/orders`);
    expect(res.status).toBe(200);
    const page = await res.text();
    const labelled = (label: string): void => {
      const id = new RegExp(`<label for="([^"]+)">${label}</label>`).exec(page)?.[1];
      expect(id, label).toBeTruthy();
      expect(page).toMatch(new RegExp(`<(select|input) id="${id}"`));
    };
    for (const l of ["Customer", "Product", "Quantity", "Subscription", "New number of units", "Usage item", "Usage amount", "Company name", "Billing e-mail", "Currency"]) labelled(l);
    for (const b of ["Place new subscription", "Upgrade", "Downgrade", "Suspend", "Resume", "Cancel subscription", "Record usage", "Add customer"]) {
      expect(page).toContain(`>${b}</button>`);
    }
    // no label is a substring of another (Playwright getByLabel matches substrings)
    const labels = [...page.matchAll(/<label for="[^"]+">([^<]+)<\/label>/g)].map((m) => (m[1] ?? "").toLowerCase());
    for (const a of labels) for (const b of labels) if (a !== b) expect(b.includes(a), `${a} in ${b}`).toBe(false);
    expect(page).toContain("<caption>Recent requests</caption>");
    expect(page).toContain("<caption>Subscriptions</caption>");
    // nothing else on the page carries an aria-label that getByLabel("Subscription") etc. could hit
    expect([...page.matchAll(/aria-label(?:ledby)?="([^"]+)"/g)].map((m) => m[1])).toEqual(["Reseller portal"]);
    const portal = await (await fetch(`${base}/marketplace/portal`)).text();
    expect(portal).toMatch(/<a href="\/marketplace\/orders">Orders<\/a>/);
  });

  it("places, upgrades, downgrades, records usage and cancels by form; the API sees the same requests", async () => {
    let page = await submit({ account: "RES-1001", action: "purchase", customer_id: "TA-1001-0001", mpn: "M365-PREMIUM-M", quantity: "8" });
    const reqId = /data-testid="created-request-id">([^<]+)</.exec(page)?.[1];
    const subId = /data-testid="created-subscription-id">([^<]+)</.exec(page)?.[1];
    expect(reqId).toMatch(/^PR-1001-/);
    expect(subId).toMatch(/^AS-1001-/);
    expect(page).toMatch(/role="status"/);
    expect(page).toContain(`<tr data-request-id="${reqId}">`);
    expect(page).toMatch(new RegExp(`<option value="${subId}" selected>`));

    page = await submit({ account: "RES-1001", action: "upgrade", subscription_id: subId ?? "", units: "5" });
    expect(page).toMatch(/role="alert"[^>]*>An upgrade needs more than the current 8 units/);
    page = await submit({ account: "RES-1001", action: "upgrade", subscription_id: subId ?? "", units: "11" });
    page = await submit({ account: "RES-1001", action: "downgrade", subscription_id: subId ?? "", units: "9" });
    page = await submit({ account: "RES-1001", action: "usage", subscription_id: subId ?? "", usage_mpn: "BACKUP-OVERAGE-GB", usage_amount: "120" });
    page = await submit({ account: "RES-1001", action: "cancel", subscription_id: subId ?? "", cancellation_fee: "yes" });
    expect(page).toMatch(/created: cancel for Contoso Ltd/);

    const list = await mpJson<Json[]>(base, "/requests?account_id=RES-1001");
    expect(list.map((r) => [r.type, items(r).map((i) => `${i.mpn}:${i.old_quantity}->${i.quantity}`).join(",")])).toEqual([
      ["purchase", "M365-PREMIUM-M:0->8"],
      ["change", "M365-PREMIUM-M:8->11"],
      ["change", "M365-PREMIUM-M:11->9"],
      ["billing", "BACKUP-OVERAGE-GB:0->120"],
      ["cancel", "M365-PREMIUM-M:9->0,FEE-CANCEL:0->1"],
    ]);
  });

  it("adds a customer by form and serves other accounts (?account=)", async () => {
    const page = await submit({ account: "RES-3003", action: "customer", company_name: "Form Co Ltd", billing_email: "ap@formco.example", currency: "EUR" });
    const id = /data-testid="created-customer-id">([^<]+)</.exec(page)?.[1];
    expect(id).toMatch(/^TA-3003-/);
    expect(page).toContain("RES-3003");
    const customers = await mpJson<Json[]>(base, "/customers?account_id=RES-3003");
    expect(customers.find((c) => c.id === id)).toMatchObject({ name: "Form Co Ltd", currency: "EUR", contact_info: { email: "ap@formco.example" } });
    expect((await mpJson<Json[]>(base, "/customers?account_id=RES-1001")).some((c) => c.name === "Form Co Ltd")).toBe(false);
    const bad = await submit({ account: "RES-3003", action: "purchase", customer_id: id ?? "", mpn: "M365-BASIC-M", quantity: "zero" });
    expect(bad).toMatch(/role="alert"/);
  });
});

describe("reset", () => {
  it("POST /__sandbox/reset clears orders, subscriptions, generated catalog and installations", async () => {
    await mpJson(base, "/installations", { method: "POST", body: { account_id: "RES-1001", webhook_url: "http://127.0.0.1:9/h" } });
    await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 10 } });
    await ctl(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", generate: 5 });
    await ctl(base, "POST", "/reset");
    const state = (await ctl<Json>(base, "GET", "/marketplace/state?account=RES-1001")).body;
    expect(state.installation).toBeNull();
    expect(state.counts).toMatchObject({ requests: 0, subscriptions: 0, products: 10 });
    const overview = (await ctl<Json>(base, "GET", "/marketplace/state")).body;
    expect(overview.accounts.map((a: Json) => a.account_id)).toEqual(["RES-1001"]);
  });
});
