// Marketplace public API (docs/marketplace-api.md) over HTTP: auth, installations, paging,
// customers, products, requests, updated_since, errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { MARKETPLACE_SECRET, start } from "./helpers";
import { ctl, listAll, mp, mpJson, type Json } from "./marketplace-helpers";

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

describe("authentication", () => {
  it("answers 401 {error, message} without or with a wrong ApiKey, 200 with the right one", async () => {
    for (const key of [null, "wrong-secret", `${MARKETPLACE_SECRET}x`]) {
      const res = await mp(base, "/products?account_id=RES-1001", { key });
      expect(res.status).toBe(401);
      const body = (await res.json()) as Json;
      expect(body.error).toBe("unauthorized");
      expect(typeof body.message).toBe("string");
    }
    const bearer = await fetch(`${base}/marketplace/public/v1/products?account_id=RES-1001`, { headers: { authorization: `Bearer ${MARKETPLACE_SECRET}` } });
    expect(bearer.status).toBe(401);
    expect((await mp(base, "/products?account_id=RES-1001")).status).toBe(200);
  });

  it("protects every operation, including installations and single requests", async () => {
    expect((await mp(base, "/installations", { method: "POST", key: null, body: { account_id: "RES-1001", webhook_url: "http://x.test/h" } })).status).toBe(401);
    expect((await mp(base, "/customers?account_id=RES-1001", { key: null })).status).toBe(401);
    expect((await mp(base, "/requests?account_id=RES-1001", { key: null })).status).toBe(401);
    expect((await mp(base, "/requests/PR-1001-0000-0001", { key: null })).status).toBe(401);
  });
});

describe("installations", () => {
  it("registers once per account: 201 then 200 with the same id and secret, webhook_url updated", async () => {
    const first = await mp(base, "/installations", { method: "POST", body: { account_id: "RES-1001", product_id: "sage-connector", webhook_url: "http://localhost:3999/api/marketplace/events/i-1" } });
    expect(first.status).toBe(201);
    const a = (await first.json()) as Json;
    expect(a.id).toMatch(/^EIN-/);
    expect(a.account_id).toBe("RES-1001");
    expect(a.product_id).toBe("sage-connector");
    expect(a.webhook_url).toBe("http://localhost:3999/api/marketplace/events/i-1");
    expect(a.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(a.webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(String(a.webhook_secret).slice(6), "base64")).toHaveLength(32);

    const second = await mp(base, "/installations", { method: "POST", body: { account_id: "RES-1001", product_id: "sage-connector", webhook_url: "http://localhost:3999/api/marketplace/events/i-2" } });
    expect(second.status).toBe(200);
    const b = (await second.json()) as Json;
    expect(b.id).toBe(a.id);
    expect(b.webhook_secret).toBe(a.webhook_secret);
    expect(b.webhook_url).toBe("http://localhost:3999/api/marketplace/events/i-2");

    const other = (await mpJson(base, "/installations", { method: "POST", body: { account_id: "RES-2002", product_id: "sage-connector", webhook_url: "http://localhost:3999/h" } })) as Json;
    expect(other.id).not.toBe(a.id);
    expect(other.webhook_secret).not.toBe(a.webhook_secret);

    const state = (await ctl<Json>(base, "GET", "/marketplace/state?account=RES-1001")).body;
    expect(state.installation.id).toBe(a.id);
    expect(state.installation.webhook_url).toBe("http://localhost:3999/api/marketplace/events/i-2");
    expect(JSON.stringify(state)).not.toContain(String(a.webhook_secret).slice(6));
  });

  it("refuses bad bodies with 400 {error, message}", async () => {
    const cases: unknown[] = [{}, { account_id: "RES-1001" }, { account_id: "RES 1001", webhook_url: "http://x.test/h" }, { account_id: "RES-1001", webhook_url: "ftp://x.test/h" }, { account_id: "RES-1001", webhook_url: "not a url" }];
    for (const body of cases) {
      const res = await mp(base, "/installations", { method: "POST", body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const e = (await res.json()) as Json;
      expect(typeof e.error).toBe("string");
      expect(typeof e.message).toBe("string");
    }
    const raw = await fetch(`${base}/marketplace/public/v1/installations`, { method: "POST", headers: { authorization: `ApiKey ${MARKETPLACE_SECRET}`, "content-type": "application/json" }, body: "{nope" });
    expect(raw.status).toBe(400);
  });
});

describe("customers and products", () => {
  it("seeds each account lazily with deterministic customers in GBP and EUR", async () => {
    const res = await mp(base, "/customers?account_id=RES-1001");
    expect(res.status).toBe(200);
    const list = (await res.json()) as Json[];
    expect(res.headers.get("content-range")).toBe(`items 0-${list.length - 1}/${list.length}`);
    expect(list.length).toBeGreaterThanOrEqual(4);
    const contoso = list.find((c) => c.name === "Contoso Ltd");
    expect(contoso).toMatchObject({
      id: "TA-1001-0001",
      external_id: expect.any(String),
      contact_info: { email: "billing@contoso.example", contact_name: expect.any(String), address: { country: "GB" } },
      currency: "GBP",
    });
    expect(list.some((c) => c.currency === "EUR")).toBe(true);
    for (const c of list) expect(c.updated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const sorted = [...list].sort((a, b) => Date.parse(a.updated) - Date.parse(b.updated) || (a.id < b.id ? -1 : 1));
    expect(list.map((c) => c.id)).toEqual(sorted.map((c) => c.id));
    // another reseller gets its own world; the same id again is deterministic
    const other = await mpJson<Json[]>(base, "/customers?account_id=acme-77");
    expect(other[0]?.id).toMatch(/^TA-\d{4}-0001$/);
    await ctl(base, "POST", "/reset");
    expect((await mpJson<Json[]>(base, "/customers?account_id=acme-77")).map((c) => c.id)).toEqual(other.map((c) => c.id));
  });

  it("filters customers by updated_since (inclusive)", async () => {
    const all = await mpJson<Json[]>(base, "/customers?account_id=RES-1001");
    const third = all[2] as Json;
    const since = await mpJson<Json[]>(base, `/customers?account_id=RES-1001&updated_since=${encodeURIComponent(third.updated)}`);
    expect(since[0]?.id).toBe(third.id);
    expect(since).toHaveLength(all.length - 2);
    const added = (await ctl<Json>(base, "POST", "/marketplace/customers", { account_id: "RES-1001", name: "New Co Ltd", email: "ap@newco.example", currency: "EUR" })).body;
    expect(added.customer.id).toBe(`TA-1001-${String(all.length + 1).padStart(4, "0")}`);
    const recent = await mpJson<Json[]>(base, `/customers?account_id=RES-1001&updated_since=${encodeURIComponent(added.customer.updated)}`);
    expect(recent.map((c) => c.id)).toEqual([added.customer.id]);
  });

  it("lists a realistic catalog sorted by id, with monthly/yearly M365, backup, hardware and a cancellation fee", async () => {
    const list = await mpJson<Json[]>(base, "/products?account_id=RES-1001");
    const mpns = list.map((p) => p.mpn);
    for (const m of ["M365-BASIC-M", "M365-BASIC-Y", "M365-STANDARD-M", "M365-STANDARD-Y", "M365-PREMIUM-M", "M365-PREMIUM-Y", "BACKUP-50GB", "YUBIKEY-5", "FEE-CANCEL"]) expect(mpns).toContain(m);
    expect(list.map((p) => p.id)).toEqual([...list.map((p) => p.id)].sort());
    const basic = list.find((p) => p.mpn === "M365-BASIC-M");
    expect(basic).toEqual({
      id: expect.stringMatching(/^PRD-1001-/),
      mpn: "M365-BASIC-M",
      name: "Microsoft 365 Business Basic (monthly)",
      description: expect.any(String),
      unit_price: "5.10",
      currency: "GBP",
      billing_period: "monthly",
      type: "item",
      fee_kind: null,
      updated: expect.stringMatching(/Z$/),
    });
    expect(list.find((p) => p.mpn === "M365-BASIC-Y")?.billing_period).toBe("yearly");
    expect(list.find((p) => p.mpn === "YUBIKEY-5")?.billing_period).toBe("one_time");
    expect(list.find((p) => p.mpn === "FEE-CANCEL")).toMatchObject({ type: "fee", fee_kind: "cancellation" });
  });

  it("searches products by mpn or name substring, case-insensitive", async () => {
    const basic = await mpJson<Json[]>(base, "/products?account_id=RES-1001&search=basic");
    expect(basic.map((p) => p.mpn).sort()).toEqual(["M365-BASIC-M", "M365-BASIC-Y"]);
    const byName = await mpJson<Json[]>(base, "/products?account_id=RES-1001&search=yubikey%205");
    expect(byName.map((p) => p.mpn)).toEqual(["YUBIKEY-5"]);
    const none = await mp(base, "/products?account_id=RES-1001&search=zzz-nothing");
    expect(await none.json()).toEqual([]);
    expect(none.headers.get("content-range")).toBe("items 0-0/0");
  });
});

describe("paging (limit/offset, Content-Range)", () => {
  it("pages 250 requests as 0-99, 100-199, 200-249 and answers [] past the end", async () => {
    expect((await ctl(base, "POST", "/marketplace/orders", { account_id: "RES-1001", generate: { count: 250 } })).status).toBe(201);
    const seen: string[] = [];
    const ranges: string[] = [];
    for (const offset of [0, 100, 200]) {
      const res = await mp(base, `/requests?account_id=RES-1001&limit=100&offset=${offset}`);
      ranges.push(res.headers.get("content-range") ?? "");
      seen.push(...((await res.json()) as Json[]).map((r) => String(r.id)));
    }
    expect(ranges).toEqual(["items 0-99/250", "items 100-199/250", "items 200-249/250"]);
    expect(new Set(seen).size).toBe(250);
    const past = await mp(base, "/requests?account_id=RES-1001&limit=100&offset=300");
    expect(await past.json()).toEqual([]);
    expect(past.headers.get("content-range")).toMatch(/\/250$/);
    const def = await mp(base, "/requests?account_id=RES-1001");
    expect(((await def.json()) as Json[]).length).toBe(100);
    expect(def.headers.get("content-range")).toBe("items 0-99/250");
  });

  it("answers items 0-0/0 for an empty list", async () => {
    const res = await mp(base, "/requests?account_id=RES-1001");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(res.headers.get("content-range")).toBe("items 0-0/0");
  });

  it("refuses bad paging and account parameters with 400", async () => {
    for (const q of ["limit=0", "limit=1001", "limit=abc", "offset=-1", "offset=1.5"]) {
      const res = await mp(base, `/requests?account_id=RES-1001&${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as Json).error).toBe("invalid_parameter");
    }
    expect((await mp(base, "/requests?limit=10")).status).toBe(400);
    expect((await mp(base, "/customers?account_id=bad%20account")).status).toBe(400);
    expect((await mp(base, "/requests?account_id=RES-1001&limit=1000")).status).toBe(200);
  });
});

describe("requests: updated_since and order", () => {
  async function place(orders: Json[]): Promise<Json[]> {
    const r = await ctl<Json>(base, "POST", "/marketplace/orders", { account_id: "RES-1001", orders });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.requests as Json[];
  }

  it("updated_since is inclusive, to the second, in any ISO 8601 offset", async () => {
    const [a, b, c] = await place([
      { type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }], created: "2026-03-01T10:00:00Z" },
      { type: "purchase", customer_id: "TA-1001-0002", items: [{ mpn: "M365-BASIC-M", quantity: 2 }], created: "2026-03-01T10:00:05Z" },
      { type: "purchase", customer_id: "TA-1001-0003", items: [{ mpn: "M365-BASIC-M", quantity: 3 }], created: "2026-03-01T10:00:09Z" },
    ]);
    const ids = async (since: string): Promise<string[]> => (await mpJson<Json[]>(base, `/requests?account_id=RES-1001&updated_since=${encodeURIComponent(since)}`)).map((r) => String(r.id));
    expect(await ids("2026-03-01T10:00:05Z")).toEqual([b?.id, c?.id]);
    expect(await ids("2026-03-01T10:00:05.001Z")).toEqual([c?.id]);
    expect(await ids("2026-03-01T11:00:05+01:00")).toEqual([b?.id, c?.id]);
    expect(await ids("2026-03-01T10:00:04.999Z")).toEqual([b?.id, c?.id]);
    expect(await ids("2026-03-01")).toEqual([a?.id, b?.id, c?.id]);
    expect(await ids("2026-03-02")).toEqual([]);
    // an unencoded "+" arrives as a space
    const raw = await mp(base, "/requests?account_id=RES-1001&updated_since=2026-03-01T11:00:05+01:00");
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as Json).message).toMatch(/%2B/);
    expect((await mp(base, "/requests?account_id=RES-1001&updated_since=yesterday")).status).toBe(400);
  });

  it("sorts by updated, then id; an updated request moves to the end and keeps its id", async () => {
    const placed = await place([
      { type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 1 }], created: "2026-03-01T10:00:00Z" },
      { type: "purchase", customer_id: "TA-1001-0002", items: [{ mpn: "M365-BASIC-M", quantity: 1 }], created: "2026-03-01T10:00:00Z" },
      { type: "purchase", customer_id: "TA-1001-0003", items: [{ mpn: "M365-BASIC-M", quantity: 1 }], created: "2026-02-01T10:00:00Z" },
    ]);
    const list = await mpJson<Json[]>(base, "/requests?account_id=RES-1001");
    expect(list.map((r) => r.id)).toEqual([placed[2]?.id, placed[0]?.id, placed[1]?.id]);
    const touched = (await ctl<Json>(base, "POST", "/marketplace/touch-request", { account_id: "RES-1001", request_id: placed[2]?.id })).body;
    expect(touched.request.id).toBe(placed[2]?.id);
    expect(Date.parse(touched.request.updated)).toBeGreaterThan(Date.parse(touched.request.created));
    const after = await mpJson<Json[]>(base, "/requests?account_id=RES-1001");
    expect(after.map((r) => r.id)).toEqual([placed[0]?.id, placed[1]?.id, placed[2]?.id]);
    const since = await mpJson<Json[]>(base, `/requests?account_id=RES-1001&updated_since=${encodeURIComponent(touched.request.updated)}`);
    expect(since.map((r) => r.id)).toEqual([placed[2]?.id]);
  });

  it("GET /requests/{id} returns one request; unknown → 404 {error, message}", async () => {
    const [a] = await place([{ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-STANDARD-M", quantity: 4 }] }]);
    const one = await mpJson<Json>(base, `/requests/${a?.id}`);
    expect(one).toEqual(a);
    expect(await mpJson<Json>(base, `/requests/${a?.id}?account_id=RES-1001`)).toEqual(a);
    const wrongAccount = await mp(base, `/requests/${a?.id}?account_id=RES-2002`);
    expect(wrongAccount.status).toBe(404);
    const missing = await mp(base, "/requests/PR-1001-9999-9999");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found", message: expect.any(String) });
  });

  it("unknown paths and methods under the API answer JSON errors; faults can be injected per route", async () => {
    const unknown = await mp(base, "/subscriptions?account_id=RES-1001");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Json).error).toBe("not_found");
    const wrong = await mp(base, "/products", { method: "DELETE" });
    expect(wrong.status).toBe(405);
    await ctl(base, "POST", "/faults", { route: "marketplace.api.requests.list", kind: "status", status: 429, retryAfterSeconds: 7, count: 1 });
    const limited = await mp(base, "/requests?account_id=RES-1001");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(await limited.json()).toMatchObject({ error: "rate_limited", message: expect.any(String) });
    expect((await mp(base, "/requests?account_id=RES-1001")).status).toBe(200);
    const log = await (await fetch(`${base}/__sandbox/requests?route=marketplace.api.*`)).text();
    expect(log).toContain("marketplace.api.requests.list");
    expect(log).not.toContain(MARKETPLACE_SECRET);
  });
});

describe("catalog generator", () => {
  it("adds 10,000 products quickly; pages them all", async () => {
    const t0 = performance.now();
    const r = await ctl<Json>(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", generate: 10_000 });
    const ms = performance.now() - t0;
    console.log(`catalog: 10,000 products generated in ${Math.round(ms)} ms (server ${r.body.duration_ms} ms)`);
    expect(r.status).toBe(201);
    expect(r.body.added).toBe(10_000);
    expect(ms).toBeLessThan(5_000);
    const res = await mp(base, "/products?account_id=RES-1001&limit=1000&offset=9500");
    expect(res.headers.get("content-range")).toBe(`items 9500-${r.body.total - 1}/${r.body.total}`);
    const all = await listAll(base, "/products?account_id=RES-1001");
    expect(all).toHaveLength(r.body.total);
    expect(new Set(all.map((p) => p.mpn)).size).toBe(all.length);
    const ids = all.map((p) => String(p.id));
    expect(ids).toEqual([...ids].sort());
    const gen = await mpJson<Json[]>(base, "/products?account_id=RES-1001&search=GEN-09999");
    expect(gen).toHaveLength(1);
    expect(gen[0]?.unit_price).toMatch(/^\d+\.\d{2}$/);
  });

  it("a product update moves its updated timestamp", async () => {
    const before = (await mpJson<Json[]>(base, "/products?account_id=RES-1001&search=BACKUP-50GB"))[0] as Json;
    const r = await ctl<Json>(base, "POST", "/marketplace/catalog", { account_id: "RES-1001", update: { mpn: "BACKUP-50GB", unit_price: "4.50" } });
    expect(r.status).toBe(200);
    const after = (await mpJson<Json[]>(base, "/products?account_id=RES-1001&search=BACKUP-50GB"))[0] as Json;
    expect(after.unit_price).toBe("4.50");
    expect(after.id).toBe(before.id);
    expect(Date.parse(after.updated)).toBeGreaterThan(Date.parse(before.updated));
  });
});
