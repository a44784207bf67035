// Behaviours 11 (contact/item validation), 12 (DELETE 204 then 404), 13 (incremental sync),
// 15 (search and filters), 16 (country differences), 6 (data per business).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { body, control, createCustomer, sageErrorsOf, sageSession, start, type Envelope, type SageSession } from "./helpers";

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

async function sources(res: Response): Promise<string[]> {
  expect(res.status).toBe(422);
  return (await sageErrorsOf(res)).map((e) => e.$source);
}

describe("#11 contacts", () => {
  it("creates a customer with the documented shape", async () => {
    const c = await createCustomer(s, "Acme Widgets Ltd", {
      reference: "ACME-1",
      main_contact_person: { name: "Ann Buyer", email: "ann@acme.example" },
      main_address: { address_line_1: "1 High St", city: "York", postal_code: "YO1 7HH", country_id: "GB" },
    });
    expect(c.id).toMatch(/^[0-9a-f]{32}$/);
    expect(c.displayed_as).toBe("Acme Widgets Ltd (ACME-1)");
    expect(c.contact_types).toEqual([{ id: "CUSTOMER", displayed_as: "Customer", $path: "/contact_types/CUSTOMER" }]);
    expect(c.email).toBe("ann@acme.example");
    expect(c.currency.id).toBe("GBP");
    expect(c.main_address.city).toBe("York");
  });

  it("name and contact_type_ids are required; types must be CUSTOMER or VENDOR", async () => {
    expect(await sources(await s.call("POST", "/contacts", { body: { contact: { contact_type_ids: ["CUSTOMER"] } } }))).toContain("name");
    expect(await sources(await s.call("POST", "/contacts", { body: { contact: { name: "X" } } }))).toContain("contact_type_ids");
    expect(
      await sources(await s.call("POST", "/contacts", { body: { contact: { name: "X", contact_type_ids: ["PARTNER"] } } })),
    ).toContain("contact_type_ids");
    expect(await sources(await s.call("POST", "/contacts", { body: { name: "X", contact_type_ids: ["CUSTOMER"] } }))).toContain("contact");
  });

  it("the contact reference is unique; a missing one is generated", async () => {
    await createCustomer(s, "First", { reference: "DUP-1" });
    expect(await sources(await s.call("POST", "/contacts", { body: { contact: { name: "Second", contact_type_ids: ["CUSTOMER"], reference: "dup-1" } } }))).toEqual([
      "reference",
    ]);
    const auto = await createCustomer(s, "Generated Ref Co");
    expect(auto.reference).toMatch(/^GENERA\d{3}$/);
  });

  it("default ledger account and tax rate are checked", async () => {
    const expenses = await s.ledgerId(5000);
    expect(
      await sources(
        await s.call("POST", "/contacts", {
          body: { contact: { name: "X", contact_type_ids: ["CUSTOMER"], default_sales_ledger_account_id: expenses } },
        }),
      ),
    ).toContain("default_sales_ledger_account_id");
    expect(
      await sources(
        await s.call("POST", "/contacts", {
          body: { contact: { name: "X", contact_type_ids: ["CUSTOMER"], default_sales_tax_rate_id: "IE_STANDARD" } },
        }),
      ),
    ).toContain("default_sales_tax_rate_id");
  });

  it("PUT updates and moves updated_at; DELETE answers 204, then 404", async () => {
    const c = await createCustomer(s, "To Delete");
    await control(base, "POST", "/clock", { advanceSeconds: 3 });
    const upd = await body(await s.call("PUT", `/contacts/${c.id}`, { body: { contact: { name: "Renamed" } } }));
    expect(upd.name).toBe("Renamed");
    expect(upd.updated_at > c.updated_at).toBe(true);
    const del = await s.call("DELETE", `/contacts/${c.id}`);
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    const gone = await s.call("GET", `/contacts/${c.id}`);
    expect(gone.status).toBe(404);
    expect((await sageErrorsOf(gone))[0]?.$dataCode).toBe("RecordNotFound");
    const list = await body<Envelope>(await s.call("GET", "/contacts?search=Renamed"));
    expect(list.$total).toBe(0);
  });
});

describe("#11 products and services", () => {
  it("require description and ledger accounts; products also a purchase ledger account", async () => {
    const salesL = await s.ledgerId(4000);
    const purchaseL = await s.ledgerId(5000);
    expect(await sources(await s.call("POST", "/products", { body: { product: { description: "P", sales_ledger_account_id: salesL } } }))).toContain(
      "purchase_ledger_account_id",
    );
    expect(await sources(await s.call("POST", "/services", { body: { service: { sales_ledger_account_id: salesL } } }))).toContain("description");
    expect(
      await sources(await s.call("POST", "/services", { body: { service: { description: "S", sales_ledger_account_id: purchaseL } } })),
    ).toContain("sales_ledger_account_id");
    const p = await s.call("POST", "/products", {
      body: {
        product: {
          description: "Widget",
          item_code: "WID-1",
          sales_ledger_account_id: salesL,
          purchase_ledger_account_id: purchaseL,
          sales_tax_rate_id: "GB_STANDARD",
          sales_prices: [{ price_name: "Selling Price", price: 12.5, price_includes_tax: false }],
        },
      },
    });
    expect(p.status).toBe(201);
    const prod = await body(p);
    expect(prod.sales_prices[0].price).toBe(12.5);
    expect((await s.call("DELETE", `/products/${prod.id}`)).status).toBe(204);
    expect((await s.call("GET", `/products/${prod.id}`)).status).toBe(404);
  });

  it("search by item code or description", async () => {
    const byCode = await body<Envelope>(await s.call("GET", "/services?search=m365-basic&attributes=item_code"));
    expect(byCode.$items.map((i) => i.item_code)).toEqual(["M365-BASIC"]);
    const byDesc = await body<Envelope>(await s.call("GET", "/services?search=backup"));
    expect(byDesc.$total).toBe(1);
  });
});

describe("#15 search and filters", () => {
  it("contacts: search by name or reference, email of the contact person, contact_type_id", async () => {
    await createCustomer(s, "Blue Sky Ltd", { reference: "BLUE", main_contact_person: { email: "Billing@BlueSky.example" } });
    const search = await body<Envelope>(await s.call("GET", "/contacts?search=sky"));
    expect(search.$items.map((i) => i.displayed_as)).toEqual(["Blue Sky Ltd (BLUE)"]);
    const byRef = await body<Envelope>(await s.call("GET", "/contacts?search=blue"));
    expect(byRef.$total).toBe(1);
    const byEmail = await body<Envelope>(await s.call("GET", "/contacts?email=billing%40bluesky.example"));
    expect(byEmail.$total).toBe(1);
    const vendors = await body<Envelope>(await s.call("GET", "/contacts?contact_type_id=VENDOR&attributes=contact_types"));
    expect(vendors.$total).toBe(1);
    const none = await body<Envelope>(await s.call("GET", "/contacts?email=nobody%40example.test"));
    expect(none.$total).toBe(0);
  });

  it("invoices: search by reference or contact name, contact_id, date range and sort", async () => {
    const a = await createCustomer(s, "Alpha Ltd");
    const b = await createCustomer(s, "Beta Ltd");
    const salesL = await s.ledgerId(4000);
    const mk = (contact: string, date: string, reference: string) =>
      s.call("POST", "/sales_invoices", {
        body: {
          sales_invoice: {
            contact_id: contact,
            date,
            reference,
            invoice_lines: [{ description: "x", ledger_account_id: salesL, unit_price: 10, tax_rate_id: "GB_ZERO" }],
          },
        },
      });
    await mk(a.id, "2026-01-10", "ORD-A1");
    await mk(b.id, "2026-02-10", "ORD-B1");
    await mk(a.id, "2026-03-10", "ORD-A2");
    const q = async (qs: string) => {
      const res = await s.call("GET", `/sales_invoices?attributes=reference,date&${qs}`);
      const env = await body<Envelope>(res);
      if (res.status !== 200) throw new Error(`${qs}: ${res.status} ${JSON.stringify(env)}`);
      return env.$items;
    };
    expect((await q("search=ORD-B1")).map((i) => i.reference)).toEqual(["ORD-B1"]);
    expect((await q("search=alpha")).map((i) => i.reference)).toEqual(["ORD-A1", "ORD-A2"]);
    expect((await q(`contact_id=${b.id}`)).map((i) => i.reference)).toEqual(["ORD-B1"]);
    expect((await q("from_date=2026-02-01&to_date=2026-03-10")).map((i) => i.reference)).toEqual(["ORD-B1", "ORD-A2"]);
    expect((await q("sort=date:desc")).map((i) => i.reference)).toEqual(["ORD-A2", "ORD-B1", "ORD-A1"]);
    const bad = await s.call("GET", "/sales_invoices?sort=amount");
    expect(bad.status).toBe(400);
  });
});

describe("#13 incremental sync", () => {
  it("updated_or_created_since is inclusive; deleted_since is exclusive; both date formats work", async () => {
    await control(base, "POST", "/clock", { advanceSeconds: 10 });
    const c = await createCustomer(s, "Since Test Ltd");
    const at = c.updated_at as string; // e.g. 2026-11-22T16:31:57Z
    const since = async (qs: string) => (await body<Envelope>(await s.call("GET", `/contacts?${qs}`))).$items.map((i) => i.id);
    expect(await since(`updated_or_created_since=${encodeURIComponent(at)}`)).toEqual([c.id]);
    const plusOne = new Date(Date.parse(at) + 1000).toISOString().replace(/\.000Z$/, "Z");
    expect(await since(`updated_or_created_since=${encodeURIComponent(plusOne)}`)).toEqual([]);
    // offset form of the same instant
    const d = new Date(Date.parse(at) + 3600_000).toISOString().slice(0, 19);
    expect(await since(`updated_or_created_since=${encodeURIComponent(`${d}+01:00`)}`)).toEqual([c.id]);
    // "YYYY-MM-DDT(+|-)hh:mm": the date at midnight in that offset
    const day = at.slice(0, 10);
    expect(await since(`updated_or_created_since=${encodeURIComponent(`${day}T+00:00`)}`)).toContain(c.id);
    // an unencoded "+" arrives as a space: refused
    const bad = await s.call("GET", `/contacts?updated_or_created_since=${day}T10:00:00+01:00`);
    expect(bad.status).toBe(400);

    await control(base, "POST", "/clock", { advanceSeconds: 5 });
    expect((await s.call("DELETE", `/contacts/${c.id}`)).status).toBe(204);
    const deleted = await body<Envelope>(await s.call("GET", `/contacts?deleted_since=${encodeURIComponent(at)}`));
    expect(deleted.$items.map((i) => i.id)).toEqual([c.id]);
    const deletedAt = String(deleted.$items[0]?.deleted_at);
    expect((await body<Envelope>(await s.call("GET", `/contacts?deleted_since=${encodeURIComponent(deletedAt)}`))).$total).toBe(0);
    // deleted records never show up in normal queries
    expect(await since(`updated_or_created_since=${encodeURIComponent(at)}`)).toEqual([]);
  });
});

describe("#16 country differences and #6 data per business", () => {
  it("GB and IE businesses have their own tax rates and chart", async () => {
    const gb = await body<Envelope>(await s.call("GET", "/tax_rates?usage=sales&attributes=percentage"));
    const ie = await body<Envelope>(await s.call("GET", "/tax_rates?usage=sales&attributes=percentage", { business: s.ie }));
    const gbRates = Object.fromEntries(gb.$items.map((t) => [t.id, t.percentage]));
    const ieRates = Object.fromEntries(ie.$items.map((t) => [t.id, t.percentage]));
    expect(gbRates).toMatchObject({ GB_STANDARD: 20, GB_ZERO: 0, GB_EXEMPT: 0 });
    expect(ieRates).toMatchObject({ IE_STANDARD: 23, IE_REDUCED: 13.5, IE_ZERO: 0 });
    expect(Object.keys(ieRates).some((k) => k.startsWith("GB_"))).toBe(false);
    expect(Object.keys(ieRates)).not.toContain("IE_FLAT_RATE_ADDITION");
    const iePurchase = await body<Envelope>(await s.call("GET", "/tax_rates?usage=purchase", { business: s.ie }));
    expect(iePurchase.$items.map((t) => t.id)).toContain("IE_FLAT_RATE_ADDITION");
    const salesLedgers = await body<Envelope>(await s.call("GET", "/ledger_accounts?visible_in=sales&attributes=nominal_code"));
    expect(salesLedgers.$items.map((l) => l.nominal_code)).toEqual([4000, 4010, 4020, 4900]);
    const gbLedger = await s.ledgerId(4000);
    const ieLedger = await s.ledgerId(4000, s.ie);
    expect(gbLedger).not.toBe(ieLedger);
    const fs = await body(await s.call("GET", "/financial_settings", { business: s.ie }));
    expect(fs.base_currency.id).toBe("EUR");
  });

  it("records live in one business only", async () => {
    const c = await createCustomer(s, "Only In GB");
    expect((await s.call("GET", `/contacts/${c.id}`)).status).toBe(200);
    expect((await s.call("GET", `/contacts/${c.id}`, { business: s.ie })).status).toBe(404);
    const ieContact = await createCustomer(s, "Only In IE", {}, s.ie);
    expect(ieContact.currency.id).toBe("EUR");
  });
});
