// Behaviours 11 (create validation), 12 (void semantics), 17 (credit notes + allocations) and updates.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import {
  body,
  control,
  createCustomer,
  creditNoteBody,
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
let sales: string;
let customer: Json;

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
  sales = await s.ledgerId(4000);
  customer = await createCustomer(s, "Northwind Customer One", { reference: "NW-C1" });
});

async function expect422(res: Response, source: string): Promise<void> {
  expect(res.status).toBe(422);
  const errors = await sageErrorsOf(res);
  expect(errors.map((e) => e.$source)).toContain(source);
  for (const e of errors) expect(e).toMatchObject({ $severity: "error", $dataCode: "RecordInvalid" });
}

describe("#11 sales invoice creation and validation", () => {
  it("creates an invoice with consistent totals, a number and UNPAID status", async () => {
    const res = await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) });
    expect(res.status).toBe(201);
    const inv = await body(res);
    expect(inv.id).toMatch(/^[0-9a-f]{32}$/);
    expect(inv.invoice_number).toBe("SI-1");
    expect(inv.displayed_as).toBe("SI-1");
    expect(inv.$path).toBe(`/sales_invoices/${inv.id}`);
    expect(inv.status.id).toBe("UNPAID");
    expect([inv.net_amount, inv.tax_amount, inv.total_amount, inv.outstanding_amount]).toEqual([30, 6, 36, 36]);
    expect(inv.contact.id).toBe(customer.id);
    expect(inv.currency.id).toBe("GBP");
    expect(inv.due_date).toBe("2026-02-14");
    expect(inv.invoice_lines[0].tax_rate.id).toBe("GB_STANDARD");
    expect(inv.invoice_lines[0].ledger_account.id).toBe(sales);
    const again = await body(await s.call("GET", `/sales_invoices/${inv.id}`));
    expect(again).toEqual(inv);
  });

  it("required fields come back as 422 RecordInvalid naming the field (and are flagged as spec violations)", async () => {
    const b = invoiceBody(customer.id, sales);
    delete b.sales_invoice.contact_id;
    await expect422(await s.call("POST", "/sales_invoices", { body: b }), "contact_id");
    const b2 = invoiceBody(customer.id, sales, {}, { unit_price: undefined });
    delete b2.sales_invoice.invoice_lines[0].unit_price;
    await expect422(await s.call("POST", "/sales_invoices", { body: b2 }), "invoice_lines.unit_price");
    const creates = (await requestLog(base)).filter((e) => e.route === "sage.sales_invoices.create");
    expect(creates.map((e) => [e.status, e.spec_violation])).toEqual([
      [422, true],
      [422, true],
    ]);
    expect((await sageState(base, s.gb)).counts.sales_invoices).toBe(0);
  });

  it("an empty line list is refused", async () => {
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, { invoice_lines: [] }) }), "invoice_lines");
  });

  it("unknown or non-customer contacts are refused", async () => {
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody("f".repeat(32), sales) }), "contact");
    const vendor = await body(
      await s.call("POST", "/contacts", { body: { contact: { name: "A Supplier", contact_type_ids: ["VENDOR"] } } }),
    );
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody(vendor.id, sales) }), "contact");
  });

  it("a ledger account must exist and be visible in sales", async () => {
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, "0".repeat(32)) }), "invoice_lines.ledger_account_id");
    const expenses = await s.ledgerId(5000);
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, expenses) }), "invoice_lines.ledger_account_id");
  });

  it("a tax rate must exist, belong to the business's country and be usable for sales", async () => {
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { tax_rate_id: "XX_NOPE" }) }),
      "invoice_lines.tax_rate_id",
    );
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { tax_rate_id: "IE_STANDARD" }) }),
      "invoice_lines.tax_rate_id",
    );
    // IE business: a purchase-only rate
    const ieCustomer = await createCustomer(s, "Dublin Customer", {}, s.ie);
    const ieSales = await s.ledgerId(4000, s.ie);
    const res = await s.call("POST", "/sales_invoices", {
      business: s.ie,
      body: invoiceBody(ieCustomer.id, ieSales, {}, { tax_rate_id: "IE_FLAT_RATE_ADDITION", tax_amount: 1.53 }),
    });
    await expect422(res, "invoice_lines.tax_rate_id");
  });

  it("tax_amount is required for a taxable rate, not for zero/exempt/no-tax rates", async () => {
    const b = invoiceBody(customer.id, sales);
    delete b.sales_invoice.invoice_lines[0].tax_amount;
    await expect422(await s.call("POST", "/sales_invoices", { body: b }), "invoice_lines.tax_amount");
    // the ledger account's default rate (GB_STANDARD) applies when tax_rate_id is omitted
    const b2 = invoiceBody(customer.id, sales);
    delete b2.sales_invoice.invoice_lines[0].tax_amount;
    delete b2.sales_invoice.invoice_lines[0].tax_rate_id;
    await expect422(await s.call("POST", "/sales_invoices", { body: b2 }), "invoice_lines.tax_amount");
    for (const rate of ["GB_ZERO", "GB_EXEMPT", "GB_NO_TAX"]) {
      const z = invoiceBody(customer.id, sales, {}, { tax_rate_id: rate });
      delete z.sales_invoice.invoice_lines[0].tax_amount;
      const res = await s.call("POST", "/sales_invoices", { body: z });
      expect(res.status, rate).toBe(201);
      expect((await body(res)).tax_amount).toBe(0);
    }
  });

  it("inconsistent totals are refused", async () => {
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { tax_amount: 5 }) }),
      "invoice_lines.tax_amount",
    );
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { net_amount: 33 }) }),
      "invoice_lines.net_amount",
    );
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { total_amount: 30 }) }),
      "invoice_lines.total_amount",
    );
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, { total_amount: 35.5 }) }),
      "total_amount",
    );
    await expect422(
      await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, {}, { tax_rate_id: "GB_ZERO", tax_amount: 6 }) }),
      "invoice_lines.tax_amount",
    );
    // consistent explicit totals (and a cent of rounding) are fine
    const ok = await s.call("POST", "/sales_invoices", {
      body: invoiceBody(
        customer.id,
        sales,
        { net_amount: 30, tax_amount: 6, total_amount: 36 },
        { quantity: 1, unit_price: 30, net_amount: 30, tax_amount: 6, total_amount: 36 },
      ),
    });
    expect(ok.status).toBe(201);
  });

  it("prices including tax split the gross amount", async () => {
    const res = await s.call("POST", "/sales_invoices", {
      body: invoiceBody(customer.id, sales, {}, { quantity: 1, unit_price: 12, unit_price_includes_tax: true, tax_amount: 2 }),
    });
    expect(res.status).toBe(201);
    const inv = await body(res);
    expect([inv.net_amount, inv.tax_amount, inv.total_amount]).toEqual([10, 2, 12]);
  });

  it("the invoice currency must be the contact's currency", async () => {
    await expect422(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, { currency_id: "EUR" }) }), "currency_id");
  });

  it("unknown attributes are accepted but reported in the request log", async () => {
    const res = await s.call("POST", "/sales_credit_notes", {
      body: creditNoteBody(customer.id, sales, { original_invoice_id: "a".repeat(32) }),
    });
    expect(res.status).toBe(201);
    const entry = (await requestLog(base)).find((e) => e.route === "sage.sales_credit_notes.create");
    expect(entry?.unknown_attributes).toEqual(["sales_credit_note.original_invoice_id"]);
    expect(entry?.spec_violation).toBeUndefined();
  });
});

describe("#12 void semantics", () => {
  it("DELETE voids: 200 with the voided invoice, void_reason stored, updated_at moves, still listable", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    await control(base, "POST", "/clock", { advanceSeconds: 5 });
    const res = await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=${encodeURIComponent("Order cancelled")}`);
    expect(res.status).toBe(200);
    const voided = await body(res);
    expect(voided.id).toBe(inv.id);
    expect(voided.status.id).toBe("VOID");
    expect(voided.void_reason).toBe("Order cancelled");
    expect(voided.outstanding_amount).toBe(0);
    expect(voided.updated_at > inv.updated_at).toBe(true);
    const got = await body(await s.call("GET", `/sales_invoices/${inv.id}`));
    expect(got.status.id).toBe("VOID");
    const list = await body<Envelope>(await s.call("GET", "/sales_invoices"));
    expect(list.$items.map((i) => i.id)).toContain(inv.id);
    const voidOnly = await body<Envelope>(await s.call("GET", "/sales_invoices?status_id=VOID"));
    expect(voidOnly.$total).toBe(1);
  });

  it("updated_at moves even when void follows create within the same second", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    const voided = await body(await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=dup`));
    expect(voided.updated_at > inv.updated_at).toBe(true);
  });

  it("void_reason is required (unless DRAFT) and at most 200 characters", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    await expect422(await s.call("DELETE", `/sales_invoices/${inv.id}`), "void_reason");
    await expect422(await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=`), "void_reason");
    await expect422(await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=${"x".repeat(201)}`), "void_reason");
    expect((await body(await s.call("GET", `/sales_invoices/${inv.id}`))).status.id).toBe("UNPAID");
  });

  it("a voided invoice cannot be voided again or edited", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    expect((await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=x`)).status).toBe(200);
    const again = await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=x`);
    expect(again.status).toBe(422);
    const put = await s.call("PUT", `/sales_invoices/${inv.id}`, { body: { sales_invoice: { notes: "late edit" } } });
    expect(put.status).toBe(422);
  });

  it("a DRAFT is deleted without a reason, then 404 and reported by deleted_since", async () => {
    const draft = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, { status_id: "DRAFT" }) }));
    expect(draft.status.id).toBe("DRAFT");
    const res = await s.call("DELETE", `/sales_invoices/${draft.id}`);
    expect(res.status).toBe(200);
    expect((await s.call("GET", `/sales_invoices/${draft.id}`)).status).toBe(404);
    const live = await body<Envelope>(await s.call("GET", "/sales_invoices"));
    expect(live.$total).toBe(0);
    const deleted = await body<Envelope>(await s.call("GET", "/sales_invoices?deleted_since=2020-01-01T00:00:00Z"));
    expect(deleted.$items.map((i) => i.id)).toEqual([draft.id]);
  });

  it("release turns a DRAFT into UNPAID (201); releasing twice is refused", async () => {
    const draft = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales, { status_id: "DRAFT" }) }));
    const res = await s.call("POST", `/sales_invoices/${draft.id}/release`);
    expect(res.status).toBe(201);
    expect((await body(res)).status.id).toBe("UNPAID");
    expect((await s.call("POST", `/sales_invoices/${draft.id}/release`)).status).toBe(422);
  });

  it("credit notes void the same way", async () => {
    const cn = await body(await s.call("POST", "/sales_credit_notes", { body: creditNoteBody(customer.id, sales) }));
    expect(cn.credit_note_number).toBe("SCN-1");
    await expect422(await s.call("DELETE", `/sales_credit_notes/${cn.id}`), "void_reason");
    const res = await s.call("DELETE", `/sales_credit_notes/${cn.id}?void_reason=mistake`);
    expect(res.status).toBe(200);
    expect((await body(res)).status.id).toBe("VOID");
  });
});

describe("updates (PUT)", () => {
  it("lines: id updates, _destroy removes, no id adds, unmentioned lines stay; totals and updated_at move", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    const first = inv.invoice_lines[0].id as string;
    await control(base, "POST", "/clock", { advanceSeconds: 2 });
    // append a line: the existing one stays
    const add = await s.call("PUT", `/sales_invoices/${inv.id}`, {
      body: { sales_invoice: { notes: "changed", invoice_lines: [{ description: "B", ledger_account_id: sales, quantity: 1, unit_price: 5, tax_rate_id: "GB_ZERO" }] } },
    });
    expect(add.status).toBe(200);
    const a = await body(add);
    expect(a.invoice_lines.map((l: Json) => l.description)).toEqual(["Microsoft 365 Business Basic", "B"]);
    expect([a.net_amount, a.tax_amount, a.total_amount]).toEqual([35, 6, 41]);
    expect(a.notes).toBe("changed");
    expect(a.invoice_number).toBe(inv.invoice_number);
    expect(a.updated_at > inv.updated_at).toBe(true);
    // update the first line by id (tax must follow), remove the second
    const second = a.invoice_lines[1].id as string;
    const upd = await body(
      await s.call("PUT", `/sales_invoices/${inv.id}`, {
        body: { sales_invoice: { invoice_lines: [{ id: first, quantity: 5, tax_amount: 10 }, { id: second, _destroy: true }] } },
      }),
    );
    expect(upd.invoice_lines).toHaveLength(1);
    expect(upd.invoice_lines[0].id).toBe(first);
    expect([upd.net_amount, upd.tax_amount, upd.total_amount]).toEqual([50, 10, 60]);
    // changing the quantity without the matching tax_amount is refused
    const bad = await s.call("PUT", `/sales_invoices/${inv.id}`, { body: { sales_invoice: { invoice_lines: [{ id: first, quantity: 1 }] } } });
    expect(bad.status).toBe(422);
    // a line id from elsewhere is refused
    const foreign = await s.call("PUT", `/sales_invoices/${inv.id}`, { body: { sales_invoice: { invoice_lines: [{ id: "9".repeat(32), quantity: 1 }] } } });
    expect(foreign.status).toBe(422);
    // sending the full list again without ids duplicates it (lines are not replaced)
    const dup = await body(
      await s.call("PUT", `/sales_invoices/${inv.id}`, {
        body: { sales_invoice: { invoice_lines: [{ description: "Microsoft 365 Business Basic", ledger_account_id: sales, quantity: 5, unit_price: 10, tax_rate_id: "GB_STANDARD", tax_amount: 10 }] } },
      }),
    );
    expect(dup.invoice_lines).toHaveLength(2);
  });
});

describe("#17 credit notes for refunds and allocation", () => {
  it("a credit note allocated against an invoice pays it (status and outstanding)", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    const cn = await body(
      await s.call("POST", "/sales_credit_notes", { body: creditNoteBody(customer.id, sales, {}, { quantity: 1, unit_price: 10, tax_amount: 2 }) }),
    );
    expect([cn.net_amount, cn.tax_amount, cn.total_amount]).toEqual([10, 2, 12]);
    const alloc = await s.call("POST", "/contact_allocations", {
      body: {
        contact_allocation: {
          transaction_type_id: "CUSTOMER_ALLOCATION",
          contact_id: customer.id,
          allocated_artefacts: [
            { artefact_id: inv.id, amount: 12 },
            { artefact_id: cn.id, amount: -12 },
          ],
        },
      },
    });
    expect(alloc.status).toBe(201);
    const inv2 = await body(await s.call("GET", `/sales_invoices/${inv.id}`));
    expect(inv2.status.id).toBe("PART_PAID");
    expect(inv2.outstanding_amount).toBe(24);
    const cn2 = await body(await s.call("GET", `/sales_credit_notes/${cn.id}`));
    expect(cn2.status.id).toBe("PAID");
    expect(cn2.outstanding_amount).toBe(0);
    // an invoice with allocations cannot be voided
    expect((await s.call("DELETE", `/sales_invoices/${inv.id}?void_reason=x`)).status).toBe(422);
    // removing the allocation restores it
    const a = await body(alloc);
    expect((await s.call("DELETE", `/contact_allocations/${a.id}`)).status).toBe(204);
    expect((await body(await s.call("GET", `/sales_invoices/${inv.id}`))).status.id).toBe("UNPAID");
  });

  it("allocations must balance and not exceed what is outstanding", async () => {
    const inv = await body(await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) }));
    const cn = await body(await s.call("POST", "/sales_credit_notes", { body: creditNoteBody(customer.id, sales) }));
    const post = (artefacts: Json[]) =>
      s.call("POST", "/contact_allocations", {
        body: { contact_allocation: { transaction_type_id: "CUSTOMER_ALLOCATION", contact_id: customer.id, allocated_artefacts: artefacts } },
      });
    expect((await post([{ artefact_id: inv.id, amount: 12 }, { artefact_id: cn.id, amount: -10 }])).status).toBe(422);
    expect((await post([{ artefact_id: inv.id, amount: 20 }, { artefact_id: cn.id, amount: -20 }])).status).toBe(422);
  });

  it("a contact with transactions cannot be deleted", async () => {
    await s.call("POST", "/sales_invoices", { body: invoiceBody(customer.id, sales) });
    expect((await s.call("DELETE", `/contacts/${customer.id}`)).status).toBe(422);
  });
});
