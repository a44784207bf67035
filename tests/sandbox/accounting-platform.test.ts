// Behaviours 5 (scopes), 7 (subscription lapse), 8 (rate limit, 503), 9 (pagination), 10 (errors),
// 14 (idempotency), 18 (no webhooks), spec validation, state and inspect.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import {
  body,
  control,
  createCustomer,
  invoiceBody,
  requestLog,
  sageErrorsOf,
  sageSession,
  sageState,
  start,
  type Envelope,
  type Json,
  type SageSession,
} from "./helpers";

let sb: RunningSandbox;
let base: string;
let s: SageSession;

beforeAll(async () => {
  sb = await start();
  base = sb.url;
});
afterAll(async () => {
  await sb.close();
});
beforeEach(async () => {
  await control(base, "POST", "/reset");
  s = await sageSession(base);
});

const hex32 = (n: number) => n.toString(16).padStart(32, "0");

describe("#9 pagination", () => {
  beforeEach(async () => {
    for (let i = 1; i <= 45; i += 1) {
      await createCustomer(s, `Paging Customer ${String(i).padStart(2, "0")}`, { reference: `PG-${String(i).padStart(2, "0")}` });
    }
  });

  it("defaults to 20 per page with relative $next/$back and null at the ends", async () => {
    const p1 = await body<Envelope>(await s.call("GET", "/contacts?search=paging"));
    expect(p1.$total).toBe(45);
    expect(p1.$page).toBe(1);
    expect(p1.$itemsPerPage).toBe(20);
    expect(p1.$items).toHaveLength(20);
    expect(p1.$back).toBeNull();
    expect(p1.$next).toBe("/contacts?page=2&items_per_page=20&search=paging");
    const p2 = await body<Envelope>(await s.call("GET", p1.$next ?? ""));
    expect(p2.$page).toBe(2);
    expect(p2.$back).toBe("/contacts?page=1&items_per_page=20&search=paging");
    const p3 = await body<Envelope>(await s.call("GET", p2.$next ?? ""));
    expect(p3.$items).toHaveLength(5);
    expect(p3.$next).toBeNull();
    const ids = [...p1.$items, ...p2.$items, ...p3.$items].map((i) => i.id);
    expect(new Set(ids).size).toBe(45);
  });

  it("a page past the end returns the last page", async () => {
    const p = await body<Envelope>(await s.call("GET", "/contacts?search=paging&items_per_page=10&page=99"));
    expect(p.$page).toBe(5);
    expect(p.$items).toHaveLength(5);
    expect(p.$next).toBeNull();
  });

  it("items_per_page above 200 (or below 1) is refused as a spec violation", async () => {
    const ok = await body<Envelope>(await s.call("GET", "/contacts?items_per_page=200"));
    expect(ok.$itemsPerPage).toBe(200);
    for (const n of [201, 0]) {
      const res = await s.call("GET", `/contacts?items_per_page=${n}`);
      expect(res.status).toBe(400);
      expect((await sageErrorsOf(res))[0]?.$source).toBe("items_per_page");
    }
    const log = await requestLog(base);
    expect(log.filter((e) => e.spec_violation).length).toBe(2);
  });

  it("list items are slim unless attributes is given", async () => {
    const slim = await body<Envelope>(await s.call("GET", "/contacts?items_per_page=1"));
    expect(Object.keys(slim.$items[0] ?? {}).sort()).toEqual(["$path", "displayed_as", "id"]);
    const some = await body<Envelope>(await s.call("GET", "/contacts?items_per_page=1&attributes=reference,email"));
    expect(Object.keys(some.$items[0] ?? {}).sort()).toEqual(["$path", "displayed_as", "email", "id", "reference"]);
    const all = await body<Envelope>(await s.call("GET", "/contacts?items_per_page=1&attributes=all"));
    expect(Object.keys(all.$items[0] ?? {})).toEqual(expect.arrayContaining(["name", "contact_types", "created_at", "updated_at", "currency"]));
  });
});

describe("#14 idempotency", () => {
  it("the same create with the same idempotency_id makes one record and the same response", async () => {
    const c = await createCustomer(s, "Idem Customer");
    const salesL = await s.ledgerId(4000);
    const b = invoiceBody(c.id, salesL, { idempotency_id: hex32(1) });
    const r1 = await s.call("POST", "/sales_invoices", { body: b });
    const r2 = await s.call("POST", "/sales_invoices", { body: b });
    expect([r1.status, r2.status]).toEqual([201, 201]);
    const t1 = await r1.text();
    expect(await r2.text()).toBe(t1);
    expect((await sageState(base, s.gb)).counts.sales_invoices).toBe(1);
    const log = (await requestLog(base)).filter((e) => e.route === "sage.sales_invoices.create");
    expect(log.map((e) => e.idempotent_replay ?? false)).toEqual([false, true]);
  });

  it("without idempotency_id (or with a new one) the same create makes duplicates", async () => {
    const c = await createCustomer(s, "Dup Customer");
    const salesL = await s.ledgerId(4000);
    await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL) });
    await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL) });
    await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL, { idempotency_id: hex32(2) }) });
    await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL, { idempotency_id: hex32(3) }) });
    expect((await sageState(base, s.gb)).counts.sales_invoices).toBe(4);
  });

  it("works for contacts; the id must be 32 hex characters", async () => {
    const b = { contact: { name: "Idem Contact", contact_type_ids: ["CUSTOMER"], idempotency_id: hex32(9) } };
    const a = await body(await s.call("POST", "/contacts", { body: b }));
    const again = await body(await s.call("POST", "/contacts", { body: b }));
    expect(again.id).toBe(a.id);
    const bad = await s.call("POST", "/contacts", { body: { contact: { ...b.contact, idempotency_id: "not-a-guid" } } });
    expect(bad.status).toBe(422);
    expect((await sageErrorsOf(bad))[0]?.$source).toBe("idempotency_id");
  });

  it("a failed create is not remembered: fixing the body and retrying with the same id works", async () => {
    const salesL = await s.ledgerId(4000);
    const bad = await s.call("POST", "/sales_invoices", { body: invoiceBody("e".repeat(32), salesL, { idempotency_id: hex32(4) }) });
    expect(bad.status).toBe(422);
    const c = await createCustomer(s, "Fixed Customer");
    const ok = await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL, { idempotency_id: hex32(4) }) });
    expect(ok.status).toBe(201);
  });

  it("commit-then-drop: the write is stored, the retry with the same idempotency_id returns it", async () => {
    const c = await createCustomer(s, "Lost Response Ltd");
    const salesL = await s.ledgerId(4000);
    await control(base, "POST", "/faults", { route: "sage.sales_invoices.create", kind: "commit-then-drop", count: 1 });
    const b = invoiceBody(c.id, salesL, { idempotency_id: hex32(5) });
    await expect(s.call("POST", "/sales_invoices", { body: b })).rejects.toThrow();
    const state = await sageState(base, s.gb);
    expect(state.counts.sales_invoices).toBe(1);
    const retry = await s.call("POST", "/sales_invoices", { body: b });
    expect(retry.status).toBe(201);
    expect((await body(retry)).id).toBe(state.sales_invoices[0].id);
    expect((await sageState(base, s.gb)).counts.sales_invoices).toBe(1);
  });
});

describe("#5 scopes", () => {
  it("a readonly token can read but not write (403 by default, 401 when configured)", async () => {
    const ro = await sageSession(base, "Sam Taylor (2 businesses)", "readonly");
    expect(ro.tokens.scope).toBe("readonly");
    expect((await ro.call("GET", "/contacts")).status).toBe(200);
    const res = await ro.call("POST", "/contacts", { body: { contact: { name: "Nope", contact_type_ids: ["CUSTOMER"] } } });
    expect(res.status).toBe(403);
    expect((await sageErrorsOf(res))[0]?.$dataCode).toBe("AuthorizationFailure");
    await control(base, "POST", "/config", { readonlyWriteStatus: 401 });
    const res2 = await ro.call("DELETE", "/contacts/abc");
    expect(res2.status).toBe(401);
    await sageErrorsOf(res2);
    expect((await sageState(base, s.gb)).counts.contacts).toBe(3);
  });
});

describe("#7 subscription lapse", () => {
  it("answers 401 AuthorizationFailure 'No active subscription. (MSE)' for that business only", async () => {
    await control(base, "POST", "/sage/subscription", { business: s.gb, active: false });
    const res = await s.call("GET", "/contacts");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual([
      { $severity: "error", $dataCode: "AuthorizationFailure", $message: "No active subscription. (MSE)", $source: "" },
    ]);
    expect((await s.call("GET", "/contacts", { business: s.ie })).status).toBe(200);
    const biz = await body(await s.call("GET", `/businesses/${s.gb}`));
    expect(biz.subscriptions[0].active).toBe(false);
    await control(base, "POST", "/sage/subscription", { business: s.gb, active: true });
    expect((await s.call("GET", "/contacts")).status).toBe(200);
  });
});

describe("#8 rate limiting and transient errors", () => {
  it("429 after the per-business limit, with Retry-After (switchable), and the window slides", async () => {
    await control(base, "POST", "/config", { rateLimit: { limit: 5, windowSeconds: 60, retryAfter: true } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await s.call("GET", "/contact_types")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await s.call("GET", "/contact_types");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await sageErrorsOf(limited))[0]?.$dataCode).toBe("TooManyRequests");
    // another business has its own budget
    expect((await s.call("GET", "/contact_types", { business: s.ie })).status).toBe(200);
    await control(base, "POST", "/config", { rateLimit: { retryAfter: false } });
    const noHeader = await s.call("GET", "/contact_types");
    expect(noHeader.status).toBe(429);
    expect(noHeader.headers.get("retry-after")).toBeNull();
    await control(base, "POST", "/clock", { advanceSeconds: 61 });
    expect((await s.call("GET", "/contact_types")).status).toBe(200);
  });

  it("the default limit is 200 calls per 60 s", async () => {
    const cfg = await body(await control(base, "GET", "/config"));
    expect(cfg.rateLimit).toEqual({ limit: 200, windowSeconds: 60, retryAfter: true });
  });

  it("faults: 503 / 500 / 429 on a route, a given number of times, without doing the work", async () => {
    const c = await createCustomer(s, "Fault Customer");
    const salesL = await s.ledgerId(4000);
    await control(base, "POST", "/faults", { route: "sage.sales_invoices.create", kind: "status", status: 503, count: 1 });
    await control(base, "POST", "/faults", { route: "sage.sales_invoices.create", kind: "status", status: 500, count: 1 });
    await control(base, "POST", "/faults", { route: "sage.sales_invoices.create", kind: "status", status: 429, count: 1, retryAfterSeconds: 7 });
    const b = invoiceBody(c.id, salesL);
    const r1 = await s.call("POST", "/sales_invoices", { body: b });
    const r2 = await s.call("POST", "/sales_invoices", { body: b });
    const r3 = await s.call("POST", "/sales_invoices", { body: b });
    expect([r1.status, r2.status, r3.status]).toEqual([503, 500, 429]);
    expect(r3.headers.get("retry-after")).toBe("7");
    for (const r of [r1, r2, r3]) await sageErrorsOf(r);
    expect((await sageState(base, s.gb)).counts.sales_invoices).toBe(0);
    expect((await s.call("POST", "/sales_invoices", { body: b })).status).toBe(201);
  });
});

describe("#10 errors and spec validation", () => {
  it("unknown endpoint → 404, wrong method → 405, unknown record → 404, all as error arrays", async () => {
    const r404 = await s.call("GET", "/no_such_thing");
    expect(r404.status).toBe(404);
    await sageErrorsOf(r404);
    const r405 = await s.call("PATCH", "/contacts");
    expect(r405.status).toBe(405);
    await sageErrorsOf(r405);
    const missing = await s.call("GET", `/sales_invoices/${"a".repeat(32)}`);
    expect(missing.status).toBe(404);
    expect((await sageErrorsOf(missing))[0]?.$dataCode).toBe("RecordNotFound");
  });

  it("a non-JSON body → 415; broken JSON → 400", async () => {
    const res = await fetch(`${base}/sage/v3.1/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.tokens.access_token}`, "content-type": "application/x-www-form-urlencoded" },
      body: "contact[name]=X",
    });
    expect(res.status).toBe(415);
    await sageErrorsOf(res);
    const broken = await fetch(`${base}/sage/v3.1/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.tokens.access_token}`, "content-type": "application/json" },
      body: '{"contact": {',
    });
    expect(broken.status).toBe(400);
    await sageErrorsOf(broken);
  });

  it("wrong types and unknown query parameters are spec violations, flagged in the request log", async () => {
    await control(base, "DELETE", "/requests");
    const wrongType = await s.call("POST", "/contacts", { body: { contact: { name: 42, contact_type_ids: "CUSTOMER" } } });
    expect(wrongType.status).toBe(422);
    const srcs = (await sageErrorsOf(wrongType)).map((e) => e.$source);
    expect(srcs).toEqual(expect.arrayContaining(["name", "contact_type_ids"]));
    const unknownParam = await s.call("GET", "/contacts?X-Business=abc");
    expect(unknownParam.status).toBe(400);
    const badEnum = await s.call("GET", "/ledger_accounts?visible_in=everywhere");
    expect(badEnum.status).toBe(400);
    const good = await s.call("GET", "/contacts?search=x&attributes=all&items_per_page=5");
    expect(good.status).toBe(200);
    const log = await requestLog(base);
    expect(log.map((e) => e.spec_violation === true)).toEqual([true, true, true, false]);
    expect(log[0]?.spec_issues).toBeTruthy();
  });

  it("an endpoint the spec describes but the sandbox does not simulate → 501", async () => {
    const res = await s.call("GET", "/bank_accounts");
    expect(res.status).toBe(501);
    expect((await sageErrorsOf(res))[0]?.$dataCode).toBe("NotImplemented");
  });

  it("spec validation can be switched off", async () => {
    await control(base, "POST", "/config", { specValidation: false });
    expect((await s.call("GET", "/contacts?unknown_param=1")).status).toBe(200);
  });
});

describe("#18 no webhooks", () => {
  it("there is no webhook subscription API in Accounting v3.1", async () => {
    for (const path of ["/webhooks", "/webhook_subscriptions", "/subscriptions", "/notifications"]) {
      const res = await s.call("POST", path, { body: { webhook: { url: "http://localhost:3000/hook" } } });
      expect(res.status, path).toBe(404);
    }
  });

  it("creating records makes no outbound calls: only our own requests are in the log", async () => {
    await control(base, "DELETE", "/requests");
    const c = await createCustomer(s, "No Hook Ltd");
    const salesL = await s.ledgerId(4000);
    await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL) });
    const log = await requestLog(base);
    expect(log.every((e) => e.path.startsWith("/sage/v3.1/"))).toBe(true);
  });
});

describe("state and inspect", () => {
  it("GET /__sandbox/state shows what exists per business; /sage/inspect lists invoices", async () => {
    const c = await createCustomer(s, "Visible Ltd");
    const salesL = await s.ledgerId(4000);
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(c.id, salesL, { reference: "INSPECT-1" }) }));
    const st: Json = await sageState(base, "taylor-gb");
    expect(st.business.id).toBe(s.gb);
    expect(st.counts).toMatchObject({ sales_invoices: 1, sales_credit_notes: 0, contacts: 4 });
    expect(st.sales_invoices[0].id).toBe(inv.id);
    const ieState: Json = await sageState(base, s.ie);
    expect(ieState.counts.sales_invoices).toBe(0);
    const summary = await body(await control(base, "GET", "/state"));
    expect(summary.businesses).toHaveLength(3);
    const page = await (await fetch(`${base}/sage/inspect`)).text();
    expect(page).toContain("INSPECT-1");
    expect(page).toContain("SI-1");
    expect(page).toContain("Taylor Cloud Ireland Ltd");
  });
});
