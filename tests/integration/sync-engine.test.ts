import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";
import { desc, eq } from "drizzle-orm";
import { actionLog } from "@/db/schema";
import { getTaxRules, saveTaxRules } from "@/lib/settings/tax-rules-settings";
import { defaultTaxRules } from "@/lib/sync/tax-rules";

/** The sandbox's fault list (control API): what each injected fault is and how often it fired. */
async function firedFaults(sw: SyncWorld) {
  const res = await fetch(`${sw.world.sandbox.url}/__sandbox/faults`);
  expect(res.status).toBe(200);
  const list = (await res.json()) as { route: string; kind: string; fired: number }[];
  return list.map((f) => ({ route: f.route, kind: f.kind, fired: f.fired }));
}

function unwrapContact(state: unknown, reference: string) {
  const contacts = (state as { contacts: { reference?: string; tax_number?: string | null; main_address?: unknown; main_contact_person?: unknown }[] }).contacts;
  const found = contacts.find((c) => c.reference === reference);
  expect(found, `no Sage contact with reference ${reference}`).toBeDefined();
  return found!;
}

describe("sync engine: tasks become Sage invoices and credit notes, exactly once", () => {
  let sw: SyncWorld;
  beforeAll(async () => {
    sw = await startSyncWorld();
    await sw.settings({});
  });
  afterAll(async () => sw?.close());

  it("a new subscription → one invoice with the right lines; the contact is created once; a second sync writes nothing", async () => {
    const { orderId, taskId } = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "10", unit_price: "12.50" }]);
    await sw.sync([taskId]);
    const task = await sw.task(taskId);
    expect(task.state).toBe("synced");
    const state = await sw.sageState();
    const invoices = state.sales_invoices.filter((i) => i.reference === orderId);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]!.invoice_lines).toEqual([expect.objectContaining({ description: "Microsoft 365 Business Standard — Desktop apps and mailbox", quantity: 10, unit_price: 12.5, service: expect.objectContaining({ id: sw.services.m365.id }) })]);
    expect(Number(invoices[0]!.total_amount)).toBeCloseTo(150);
    expect(state.contacts.filter((c) => c.reference === "TA-9001")).toHaveLength(1);

    await sw.sync([taskId]);
    const again = await sw.sageState();
    expect(again.sales_invoices.filter((i) => i.reference === orderId)).toHaveLength(1);
    expect(again.contacts.filter((c) => c.reference === "TA-9001")).toHaveLength(1);
  });

  it("a new customer's Sage contact carries the marketplace billing address, contact person, phone and VAT number", async () => {
    const customer = {
      id: "TA-ADDR-1",
      name: "Fabrikam Ireland Ltd",
      email: "accounts@fabrikam-ie.example",
      currency: "GBP",
      contactInfo: { contact_name: "Fiona Byrne", phone: "+353 1 555 0100", address: { line1: "12 Grand Canal Quay", city: "Dublin", postal_code: "D02 X576", country: "ie" }, tax_id: "ie 9876543wh" },
    };
    const o = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { customer });
    await sw.sync([o.taskId]);
    expect((await sw.task(o.taskId)).state).toBe("synced");
    const contacts = (await sw.sageState()).contacts.filter((c) => c.reference === customer.id);
    expect(contacts).toHaveLength(1);
    // read back from the sandbox's Sage as Sage renders the contact
    const contact = unwrapContact(await (await fetch(`${sw.world.sandbox.url}/__sandbox/state?business=${sw.businessId}`)).json(), customer.id);
    expect(contact.tax_number).toBe("IE9876543WH");
    expect(contact.main_address).toMatchObject({ address_line_1: "12 Grand Canal Quay", city: "Dublin", postal_code: "D02 X576", country: { id: "IE" } });
    expect(contact.main_contact_person).toMatchObject({ name: "Fiona Byrne", email: "accounts@fabrikam-ie.example", telephone: "+353 1 555 0100" });
  });

  it("one task, its only product unmapped: no contact is created for the new customer either", async () => {
    const customer = { id: "TA-NOCONTACT-2", name: "Not Yet Contacted Ltd", email: "ap@not-yet.example" };
    const o = await sw.order("purchase", [{ mpn: "BACKUP-1TB", quantity: "1" }], { customer });
    await sw.sync([o.taskId]);
    expect((await sw.task(o.taskId)).state).toBe("action_required");
    const state = await sw.sageState();
    expect(state.contacts.filter((c) => c.reference === customer.id)).toHaveLength(0);
  });

  it("an unmapped product → action_required naming it and nothing written; after mapping, Sync succeeds", async () => {
    const { orderId, taskId } = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }, { mpn: "BACKUP-1TB", quantity: "2" }]);
    await sw.sync([taskId]);
    const task = await sw.task(taskId);
    expect(task.state).toBe("action_required");
    expect(task.reason).toContain("Cloud Backup 1 TB (BACKUP-1TB)");
    expect(task.reasonLink).toBe("/mapping/products?unmapped=1&search=BACKUP-1TB");
    expect((await sw.sageState()).sales_invoices.filter((i) => i.reference === orderId)).toHaveLength(0);

    await sw.mapBackup();
    await sw.sync([taskId]);
    expect((await sw.task(taskId)).state).toBe("synced");
    const invoice = (await sw.sageState()).sales_invoices.find((i) => i.reference === orderId)!;
    expect(invoice.invoice_lines.map((l) => l.quantity)).toEqual([1, 2]);
  });

  it("a Sage validation error (422) → failed with Sage's own message and field", async () => {
    // the customer's Sage contact is in GBP; an order in EUR cannot be invoiced to it
    const { taskId } = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }], { currency: "EUR" });
    await sw.sync([taskId]);
    const task = await sw.task(taskId);
    expect(task.state).toBe("failed");
    expect(task.reason).toMatch(/^Sage refused the document — currency_id: /);
    expect(task.lastError).toContain("currency_id");
  });

  it("downgrade with refunds → credit note for the reduced quantity; upgrade → invoice for the added quantity", async () => {
    const up = await sw.order("change", [{ mpn: "M365-STD", quantity: "15", old_quantity: "10" }]);
    const down = await sw.order("change", [{ mpn: "M365-STD", quantity: "12", old_quantity: "15" }]);
    await sw.sync([up.taskId, down.taskId]);
    const state = await sw.sageState();
    expect(state.sales_invoices.find((i) => i.reference === up.orderId)!.invoice_lines.map((l) => l.quantity)).toEqual([5]);
    const credits = state.sales_credit_notes.filter((c) => c.reference === down.orderId);
    expect(credits).toHaveLength(1);
    expect(credits[0]!.credit_note_lines.map((l) => l.quantity)).toEqual([3]);
    expect(Number(credits[0]!.total_amount)).toBeCloseTo(45);
  });

  it("a refund credit note is allocated against the open invoice it refunds, once (task flow and Sync all)", async () => {
    type Artefact = { id: string; reference?: string; displayed_as?: string; total_amount: number; outstanding_amount: number; contact?: { id: string }; notes?: string | null; original_invoice_date?: string | null; date?: string };
    const artefacts = async (orderId: string) => {
      const state = (await sw.sageState()) as unknown as { sales_invoices: Artefact[]; sales_credit_notes: Artefact[] };
      return { invoice: state.sales_invoices.find((i) => i.reference === orderId), credit: state.sales_credit_notes.find((c) => c.reference === orderId) };
    };
    const allocationsOf = async (contactId: string) => {
      const { data } = await sw.sage.GET("/contact_allocations", { params: { query: { contact_id: contactId, attributes: "all" } as never } });
      return (data as unknown as { $items: { allocated_artefacts: { artefact: { id: string }; amount: number }[] }[] }).$items;
    };
    for (const [flow, customerId] of [["task", "TA-ALLOC-1"], ["batch", "TA-ALLOC-2"]] as const) {
      const customer = { id: customerId, name: `Allocation ${flow} Ltd`, email: `ap@alloc-${flow}.example` };
      const buy = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "10", unit_price: "12.50" }], { customer });
      const down = await sw.order("change", [{ mpn: "M365-STD", quantity: "7", old_quantity: "10", unit_price: "12.50" }], { customer });
      if (flow === "task") await sw.sync([buy.taskId, down.taskId]);
      else await sw.syncAll([buy.taskId, down.taskId]);
      expect((await sw.task(down.taskId)).state).toBe("synced");
      const { invoice } = await artefacts(buy.orderId);
      const { credit } = await artefacts(down.orderId);
      expect(invoice, "the purchase invoice").toBeDefined();
      expect(credit, "the refund credit note").toBeDefined();
      // 3 × 12.50 refunded: the credit note is fully allocated, the invoice owes the rest
      expect(Number(credit!.total_amount)).toBeCloseTo(37.5 * 1.2, 2);
      expect(Number(credit!.outstanding_amount)).toBe(0);
      expect(Number(invoice!.outstanding_amount)).toBeCloseTo(Number(invoice!.total_amount) - Number(credit!.total_amount), 2);
      const allocations = await allocationsOf(invoice!.contact!.id);
      expect(allocations).toHaveLength(1);
      expect(allocations[0]!.allocated_artefacts.map((a) => [a.artefact.id, a.amount])).toEqual([
        [invoice!.id, Number(credit!.total_amount)],
        [credit!.id, -Number(credit!.total_amount)],
      ]);
      // the task shows it, the Action Log says so
      const docs = await sw.documents(down.taskId);
      expect(docs.filter((d) => d.kind === "contact_allocation").map((d) => d.displayedAs)).toEqual([`${credit!.displayed_as} → ${invoice!.displayed_as}`]);
      // one at a time, the invoice exists when the credit note is written: the credit note names it
      if (flow === "task") expect({ notes: credit!.notes, original: credit!.original_invoice_date }).toEqual({ notes: `Refund for invoice ${invoice!.displayed_as}`, original: invoice!.date });

      // syncing again writes no second allocation
      if (flow === "task") await sw.sync([down.taskId]);
      else await sw.syncAll([down.taskId]);
      expect(await allocationsOf(invoice!.contact!.id)).toHaveLength(1);
    }
  });

  it("an order in EUR for the GB business: refused while Sage has no multi-currency or no EUR rate (nothing written), then invoiced in EUR at Sage's stored rate", async () => {
    type FxInvoice = { reference?: string; currency?: { id: string }; exchange_rate: number; net_amount: number; total_amount: number; base_currency_total_amount: number };
    const customer = { id: "TA-EUR-1", name: "Adatum FX GmbH", email: "rechnung@adatum-fx.example", currency: "EUR" };
    const currencies = (body: Record<string, unknown>) => sw.world.control("sage/currencies", { business: sw.businessId, ...body });
    const o = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2", unit_price: "14.60" }], { customer, currency: "EUR" });
    const written = async () => {
      const state = (await sw.sageState()) as unknown as { contacts: { reference?: string }[]; sales_invoices: FxInvoice[] };
      return { contacts: state.contacts.filter((c) => c.reference === customer.id).length, invoices: state.sales_invoices.filter((i) => i.reference === o.orderId) };
    };
    try {
      await currencies({ multi_currency_enabled: false });
      await sw.syncAll([o.taskId]);
      let task = await sw.task(o.taskId);
      expect(task.state).toBe("action_required");
      expect(task.reason).toBe("This order is in EUR, but the Sage business works in GBP only (foreign currencies are off in Sage). Turn on multi-currency in Sage (Settings › Financial Settings) or bill this customer in GBP in the marketplace, then Sync again. Nothing was written to Sage.");
      expect(await written()).toEqual({ contacts: 0, invoices: [] });

      await currencies({ multi_currency_enabled: true, rates: { EUR: null } });
      await sw.syncAll([o.taskId]);
      task = await sw.task(o.taskId);
      expect(task.state).toBe("action_required");
      expect(task.reason).toBe("This order is in EUR, and Sage has no exchange rate from GBP to EUR. Add the rate in Sage (Settings › Currencies), then Sync again. Nothing was written to Sage.");
      expect(await written()).toEqual({ contacts: 0, invoices: [] });

      // the rate is added in Sage; Sync (task flow, whose cached figures still say "no rate") re-reads and writes
      await currencies({ rates: { EUR: 1.17 } });
      await sw.sync([o.taskId]);
      expect((await sw.task(o.taskId)).state).toBe("synced");
      const { contacts, invoices } = await written();
      expect(contacts).toBe(1);
      expect(invoices).toHaveLength(1);
      expect(invoices[0]).toMatchObject({ currency: { id: "EUR" }, exchange_rate: 1.17, net_amount: 29.2, total_amount: 35.04, base_currency_total_amount: 29.95 });
    } finally {
      await currencies({ multi_currency_enabled: true, rates: { EUR: 1.17 } });
    }
  });

  it("tax by customer country and VAT number (GB business): GB 20 %, EU business with a VAT number and the rest of the world outside the scope, EU consumer 20 %", async () => {
    type TaxedInvoice = { reference?: string; tax_amount: number; total_amount: number; invoice_lines: { tax_rate: { id: string } | null; tax_amount: number; net_amount: number }[] };
    const cases = [
      { id: "TA-TAX-GB", country: "GB", tax_id: "", rate: "GB_STANDARD", tax: 5 },
      { id: "TA-TAX-IE-B2B", country: "IE", tax_id: "IE9876543WH", rate: "GB_NO_TAX", tax: 0 },
      { id: "TA-TAX-US", country: "US", tax_id: "", rate: "GB_NO_TAX", tax: 0 },
      { id: "TA-TAX-DE-B2C", country: "DE", tax_id: "", rate: "GB_STANDARD", tax: 5 },
      // a "VAT number" that is not one (another country's prefix): treated as a consumer
      { id: "TA-TAX-DE-BAD", country: "DE", tax_id: "FR12345678901", rate: "GB_STANDARD", tax: 5 },
    ];
    const orders = [];
    for (const c of cases) {
      const customer = { id: c.id, name: `Tax ${c.id} Ltd`, email: `${c.id.toLowerCase()}@tax.example`, contactInfo: { address: { line1: "1 Main St", city: "Town", postal_code: "1000", country: c.country }, tax_id: c.tax_id } };
      orders.push({ c, ...(await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2", unit_price: "12.50" }], { customer })) });
    }
    await sw.syncAll(orders.map((o) => o.taskId));
    const state = (await sw.sageState()) as unknown as { sales_invoices: TaxedInvoice[]; contacts: { reference?: string; tax_number?: string | null }[] };
    const got = orders.map((o) => {
      const invoice = state.sales_invoices.find((i) => i.reference === o.orderId);
      return { id: o.c.id, rate: invoice?.invoice_lines[0]?.tax_rate?.id, net: invoice?.invoice_lines[0]?.net_amount, tax: invoice?.tax_amount, total: invoice?.total_amount };
    });
    expect(got).toEqual(cases.map((c) => ({ id: c.id, rate: c.rate, net: 25, tax: c.tax, total: 25 + c.tax })));
    expect(state.contacts.find((c) => c.reference === "TA-TAX-IE-B2B")?.tax_number).toBe("IE9876543WH");
    // the synced task says why there is no VAT
    expect((await sw.task(orders[1]!.taskId)).reason).toBe("Outside the scope of GB VAT: customer in IE, VAT IE9876543WH");
  });

  it("the reseller's own VAT rules (Settings): a product zero-rated, a country exempt; the most specific rule wins; a bad table is refused and changes nothing; Restore defaults", async () => {
    type TaxedInvoice = { reference?: string; tax_amount: number; invoice_lines: { service?: { id: string } | null; tax_rate: { id: string } | null; net_amount: number; tax_amount: number }[] };
    const tenantId = sw.world.tenantId;
    const actor = sw.world.actor;
    const refused = await saveTaxRules(sw.db, { tenantId, actor, rules: [{ region: "eu", country: "US", vatRegistered: "any", treatment: "exempt" }, { region: "domestic", vatRegistered: "any", treatment: "item_rate" }, { region: "domestic", vatRegistered: "any", treatment: "zero_rated" }] });
    expect(refused).toEqual({ ok: false, errors: ["Rule 1: US is not another EU country for a business in GB", "Rule 3: rule 3 covers the same customers and products as rule 2"] });
    expect((await getTaxRules(sw.db, tenantId)).custom).toBe(false);

    const rules = [
      ...defaultTaxRules("GB"),
      // Basic is zero-rated for customers in GB (a product rule)
      { region: "domestic" as const, vatRegistered: "any" as const, mpn: "M365-BAS", treatment: "zero_rated" as const },
      // US customers: exempt (a country rule, over the region's "outside the scope")
      { region: "world" as const, country: "us", vatRegistered: "any" as const, treatment: "exempt" as const },
    ];
    const saved = await saveTaxRules(sw.db, { tenantId, actor, rules });
    expect(saved).toMatchObject({ ok: true, changed: true, view: { custom: true, businessCountry: "GB" } });
    const logged = await sw.db.select({ message: actionLog.message }).from(actionLog).where(eq(actionLog.tenantId, tenantId)).orderBy(desc(actionLog.id)).limit(1);
    expect(logged[0]!.message).toBe(
      "VAT rules changed: In GB, any VAT number → The Sage item's tax rate (else the business default); In another EU country, with a VAT number → Outside the scope of VAT (No VAT); In another EU country, without a VAT number → The Sage item's tax rate (else the business default); Outside the EU, any VAT number → Outside the scope of VAT (No VAT); In GB, any VAT number, product M365-BAS → Zero-rated (Zero); In US, any VAT number → Exempt from VAT (Exempt). Orders synced from now on use them; documents already in Sage are unchanged.",
    );

    const gb = { id: "TA-RULE-GB", name: "Rule GB Ltd", email: "gb@rules.example", contactInfo: { address: { line1: "1 High St", city: "London", postal_code: "EC1A 1AA", country: "GB" } } };
    const us = { id: "TA-RULE-US", name: "Rule US Inc", email: "us@rules.example", contactInfo: { address: { line1: "1 Main St", city: "Austin", postal_code: "73301", country: "US" } } };
    const ca = { id: "TA-RULE-CA", name: "Rule CA Inc", email: "ca@rules.example", contactInfo: { address: { line1: "1 Bay St", city: "Toronto", postal_code: "M5J", country: "CA" } } };
    const items = [{ mpn: "M365-STD", quantity: "2", unit_price: "12.50" }, { mpn: "M365-BAS", quantity: "10", unit_price: "5.10" }];
    const orderGb = await sw.order("purchase", items, { customer: gb });
    const orderUs = await sw.order("purchase", items, { customer: us });
    const orderCa = await sw.order("purchase", items, { customer: ca });
    await sw.syncAll([orderGb.taskId, orderUs.taskId]);
    await sw.sync([orderCa.taskId]); // the single-task path takes the same rules
    const state = (await sw.sageState()) as unknown as { sales_invoices: TaxedInvoice[] };
    const lines = (orderId: string) => {
      const invoice = state.sales_invoices.find((i) => i.reference === orderId)!;
      return { lines: invoice.invoice_lines.map((l) => [l.service?.id === sw.services.basic.id ? "BAS" : "STD", l.tax_rate?.id, l.net_amount, l.tax_amount]), tax: invoice.tax_amount };
    };
    expect(lines(orderGb.orderId)).toEqual({ lines: [["STD", "GB_STANDARD", 25, 5], ["BAS", "GB_ZERO", 51, 0]], tax: 5 });
    expect(lines(orderUs.orderId)).toEqual({ lines: [["STD", "GB_EXEMPT", 25, 0], ["BAS", "GB_EXEMPT", 51, 0]], tax: 0 });
    expect(lines(orderCa.orderId)).toEqual({ lines: [["STD", "GB_NO_TAX", 25, 0], ["BAS", "GB_NO_TAX", 51, 0]], tax: 0 });
    expect((await sw.task(orderGb.taskId)).reason).toBe("Zero-rated by your tax rules: Microsoft 365 Business Basic");

    const reset = await saveTaxRules(sw.db, { tenantId, actor, rules: null });
    expect(reset).toMatchObject({ ok: true, changed: true, view: { custom: false, rules: defaultTaxRules("GB") } });
    const again = await sw.order("purchase", items, { customer: gb });
    await sw.sync([again.taskId]);
    const after = (await sw.sageState()) as unknown as { sales_invoices: TaxedInvoice[] };
    expect(after.sales_invoices.find((i) => i.reference === again.orderId)!.invoice_lines.map((l) => l.tax_rate?.id)).toEqual(["GB_STANDARD", "GB_STANDARD"]);
  });

  it("an upgrade in the middle of the billing period: the pro-rated amount the marketplace states is invoiced, not quantity × unit price", async () => {
    type Line = { quantity: number; unit_price: number; net_amount: number; tax_amount: number };
    const customer = { id: "TA-PRORATA", name: "Prorata Ltd", email: "ap@prorata.example" };
    // 10 → 15 seats half-way through the month: 5 × 12.50 × 15/30 = 31.25; and 7 seats charged 20.00 (an amount that does not divide evenly)
    const up = await sw.order("change", [{ mpn: "M365-STD", quantity: "15", old_quantity: "10", unit_price: "12.50", amount: "31.25" }], { customer });
    const odd = await sw.order("change", [{ mpn: "M365-STD", quantity: "22", old_quantity: "15", unit_price: "12.50", amount: "20.00" }], { customer });
    await sw.sync([up.taskId, odd.taskId]);
    const state = (await sw.sageState()) as unknown as { sales_invoices: { reference?: string; net_amount: number; total_amount: number; invoice_lines: Line[] }[] };
    const line = (orderId: string) => state.sales_invoices.find((i) => i.reference === orderId)!;
    expect(line(up.orderId).invoice_lines.map((l) => [l.quantity, l.unit_price, l.net_amount, l.tax_amount])).toEqual([[5, 6.25, 31.25, 6.25]]);
    expect(line(up.orderId).total_amount).toBe(37.5);
    expect(line(odd.orderId).invoice_lines.map((l) => [l.quantity, l.net_amount, l.tax_amount])).toEqual([[7, 20, 4]]);
    expect(line(odd.orderId).total_amount).toBe(24);
    expect((await sw.task(up.taskId)).reason).toBe("Microsoft 365 Business Standard: 31.25 as charged by the marketplace (not 5 × 12.50)");
  });

  it("downgrade with 'quantity changes only' → no credit note, task synced with the note", async () => {
    await sw.settings({ downgrades: "quantity_only" });
    const down = await sw.order("change", [{ mpn: "M365-STD", quantity: "8", old_quantity: "12" }]);
    await sw.sync([down.taskId]);
    expect((await sw.task(down.taskId)).state).toBe("synced");
    expect((await sw.task(down.taskId)).reason).toContain("12 → 8");
    expect((await sw.sageState()).sales_credit_notes.filter((c) => c.reference === down.orderId)).toHaveLength(0);
    await sw.settings({});
  });

  it("cancellation: the mapped fee is invoiced and, with refunds on, the cancelled quantity credited", async () => {
    await sw.mapFee();
    const cancel = await sw.order("cancel", [{ mpn: "M365-STD", quantity: "0", old_quantity: "8" }, { mpn: "FEE-CANCEL", quantity: "1", unit_price: "30.00" }]);
    await sw.sync([cancel.taskId]);
    const state = await sw.sageState();
    const invoice = state.sales_invoices.find((i) => i.reference === cancel.orderId)!;
    expect(invoice.invoice_lines.map((l) => [l.quantity, l.unit_price])).toEqual([[1, 30]]);
    expect(state.sales_credit_notes.find((c) => c.reference === cancel.orderId)!.credit_note_lines.map((l) => l.quantity)).toEqual([8]);
  });

  it("settings: Sage price and description, trimmed description", async () => {
    const a = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2", unit_price: "99.00" }]);
    const b = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2", unit_price: "12.50" }]);
    await sw.settings({ priceSource: "sage" });
    await sw.sync([a.taskId]);
    await sw.settings({ priceSource: "marketplace", trimDescription: true });
    await sw.sync([b.taskId]);
    const state = await sw.sageState();
    const lineA = state.sales_invoices.find((i) => i.reference === a.orderId)!.invoice_lines[0]!;
    expect(lineA.description).toBe(sw.services.m365.description);
    // Sage's own price for the item, read from the sandbox's Sage state (not from our client)
    const sageState = (await (await fetch(`${sw.world.sandbox.url}/__sandbox/state?business=${sw.businessId}`)).json()) as { services: { id: string; prices: { price: number }[] }[] };
    const sagePrices = sageState.services.find((s) => s.id === sw.services.m365.id)!.prices;
    expect(sagePrices).toHaveLength(1);
    const sagePrice = sagePrices[0]!.price;
    expect(sagePrice).toBe(10.3); // the seed's GB price of M365-STANDARD (sandbox/sage/reference-data.ts)
    expect(lineA.unit_price).toBe(sagePrice);
    expect(Number(state.sales_invoices.find((i) => i.reference === a.orderId)!.total_amount)).toBeCloseTo(2 * sagePrice * 1.2); // 20 % standard VAT
    const lineB = state.sales_invoices.find((i) => i.reference === b.orderId)!.invoice_lines[0]!;
    expect(lineB.description).toBe("Microsoft 365 Business Standard");
    expect(lineB.unit_price).toBe(12.5);
    await sw.settings({});
  });

  it("invoices: 'latest open invoice' adds an order's lines to the customer's open invoice (same currency and cycle)", async () => {
    await sw.settings({ invoiceMode: "latest_open" });
    const first = await sw.order("purchase", [{ mpn: "M365-BAS", quantity: "3" }], { customer: { id: "TA-9002", name: "Fabrikam Ltd", email: "ap@fabrikam.example" } });
    const second = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "4" }], { customer: { id: "TA-9002", name: "Fabrikam Ltd", email: "ap@fabrikam.example" } });
    await sw.sync([first.taskId]);
    await sw.sync([second.taskId]);
    const state = await sw.sageState();
    const invoice = state.sales_invoices.find((i) => i.reference === first.orderId)!;
    expect(invoice.invoice_lines.map((l) => l.quantity)).toEqual([3, 4]);
    expect(state.sales_invoices.filter((i) => i.reference === second.orderId)).toHaveLength(0);
    // syncing the second task again must not add its lines twice
    await sw.sync([second.taskId]);
    expect((await sw.sageState()).sales_invoices.find((i) => i.reference === first.orderId)!.invoice_lines).toHaveLength(2);
    await sw.settings({});
  });
});

describe("Sync all (batch) keeps the same rules and exactly-once guarantees", () => {
  let sw: SyncWorld;
  beforeAll(async () => {
    sw = await startSyncWorld();
    await sw.settings({ notifications: "all_tasks" });
  });
  afterAll(async () => sw?.close());

  it("mixed batch: invoices, a credit note, an unmapped product and a refused order — each ends in its own state", async () => {
    const a = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "3" }]);
    const b = await sw.order("change", [{ mpn: "M365-STD", quantity: "1", old_quantity: "3" }]);
    const c = await sw.order("purchase", [{ mpn: "BACKUP-1TB", quantity: "1" }]);
    const d = await sw.order("purchase", [{ mpn: "M365-BAS", quantity: "2" }], { currency: "EUR" });
    const e = await sw.order("change", [{ mpn: "M365-STD", quantity: "3", old_quantity: "3" }]);
    const ids = [a, b, c, d, e].map((x) => x.taskId);
    await sw.syncAll(ids);
    expect((await sw.task(a.taskId)).state).toBe("synced");
    expect((await sw.task(b.taskId)).state).toBe("synced");
    expect((await sw.task(c.taskId)).state).toBe("action_required");
    expect((await sw.task(d.taskId)).state).toBe("failed");
    expect((await sw.task(d.taskId)).reason).toContain("currency_id");
    expect((await sw.task(e.taskId)).state).toBe("synced");
    const state = await sw.sageState();
    expect(state.sales_invoices.filter((i) => i.reference === a.orderId)).toHaveLength(1);
    expect(state.sales_credit_notes.filter((n) => n.reference === b.orderId)).toHaveLength(1);
    expect(state.sales_invoices.filter((i) => i.reference === c.orderId)).toHaveLength(0);

    // Sync all again: nothing new in Sage
    const before = (await sw.sageState()).sales_invoices.length;
    await sw.syncAll(ids);
    expect((await sw.sageState()).sales_invoices.length).toBe(before);
  });

  it("an order whose only product is unmapped writes nothing to Sage — not even its new customer's contact; mapped, Sync all writes both, once", async () => {
    const customer = { id: "TA-NOCONTACT-1", name: "No Contact Yet Ltd", email: "buyer@no-contact.example" };
    const o = await sw.order("purchase", [{ mpn: "BACKUP-1TB", quantity: "2" }], { customer });
    await sw.syncAll([o.taskId]);
    const task = await sw.task(o.taskId);
    expect(task.state).toBe("action_required");
    expect(task.reason).toBe("Map this product to a Sage item first: Cloud Backup 1 TB (BACKUP-1TB). Nothing was written to Sage.");
    let state = await sw.sageState();
    expect(state.contacts.filter((c) => c.reference === customer.id)).toHaveLength(0);
    expect(state.sales_invoices.filter((i) => i.reference === o.orderId)).toHaveLength(0);

    await sw.mapBackup();
    await sw.syncAll([o.taskId]);
    expect((await sw.task(o.taskId)).state).toBe("synced");
    state = await sw.sageState();
    expect(state.contacts.filter((c) => c.reference === customer.id).map((c) => c.name)).toEqual([customer.name]);
    expect(state.sales_invoices.filter((i) => i.reference === o.orderId)).toHaveLength(1);
  });

  it("an interrupted batch (pending markers, some invoices already in Sage) resumes without duplicates", async () => {
    const orders: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < 30; i++) orders.push(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(i + 1) }]));
    // commit-then-drop on every 3rd create: Sage stores it but we never hear back
    const invoicesBefore = (await sw.sageState()).sales_invoices.length;
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "commit-then-drop", probability: 0.34 });
    await sw.world.clearRequestLog();
    await sw.syncAll(orders.map((o) => o.taskId));
    const fired = await firedFaults(sw);
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    // the fault really fired (P(no firing in ≥ 30 creates at 0.34) < 1e-5), as often as the sandbox logged it
    expect(fired).toEqual([{ route: "sage.sales_invoices.create", kind: "commit-then-drop", fired: expect.any(Number) }]);
    expect(fired[0]!.fired).toBeGreaterThanOrEqual(1);
    const log = await sw.world.requestLog();
    expect(log.filter((l) => l.outcome === "commit-then-drop")).toHaveLength(fired[0]!.fired);
    const state = await sw.sageState();
    // exactly one invoice per order and nothing else written: 30 new invoices, 30 distinct references
    expect(state.sales_invoices.length - invoicesBefore).toBe(30);
    const refs = state.sales_invoices.map((i) => i.reference).filter((r) => orders.some((o) => o.orderId === r));
    expect(refs).toHaveLength(30);
    expect(new Set(refs).size).toBe(30);
    for (const o of orders) expect(state.sales_invoices.filter((i) => i.reference === o.orderId)).toHaveLength(1);
    for (const o of orders) expect((await sw.task(o.taskId)).state).toBe("synced");
  });

  it("Sync all of tasks already synced writes nothing and reports them skipped", async () => {
    const orders = [];
    for (let i = 0; i < 3; i++) orders.push(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(i + 1) }]));
    const ids = orders.map((o) => o.taskId);
    await sw.syncAll(ids);
    await sw.world.clearRequestLog();
    const [output] = await sw.syncAll(ids);
    expect(output).toMatchObject({ synced: 0, skipped: 3, documents: 0 });
    const writes = (await sw.world.requestLog()).filter((l) => l.path.startsWith("/sage/v3.1") && l.method !== "GET");
    expect(writes).toEqual([]);
  });

  it("an answer cut off mid-body (the invoice exists, its id never arrived) is looked up, not written twice", async () => {
    const orders: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < 20; i++) orders.push(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(i + 2) }]));
    const invoicesBefore = (await sw.sageState()).sales_invoices.length;
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "commit-then-truncate", probability: 0.4 });
    await sw.world.clearRequestLog();
    await sw.syncAll(orders.map((o) => o.taskId));
    const fired = await firedFaults(sw);
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    // P(no firing in ≥ 20 creates at 0.4) < 1e-4
    expect(fired).toEqual([{ route: "sage.sales_invoices.create", kind: "commit-then-truncate", fired: expect.any(Number) }]);
    expect(fired[0]!.fired).toBeGreaterThanOrEqual(1);
    const log = await sw.world.requestLog();
    expect(log.filter((l) => l.outcome === "commit-then-truncate")).toHaveLength(fired[0]!.fired);
    const state = await sw.sageState();
    expect(state.sales_invoices.length - invoicesBefore).toBe(20);
    const refs = state.sales_invoices.map((i) => i.reference).filter((r) => orders.some((o) => o.orderId === r));
    expect(new Set(refs).size).toBe(20);
    expect(refs).toHaveLength(20);
    for (const o of orders) {
      const invoices = state.sales_invoices.filter((i) => i.reference === o.orderId);
      expect(invoices).toHaveLength(1);
      // the recorded id is the one Sage gave the invoice
      const task = await sw.task(o.taskId);
      expect(task.state).toBe("synced");
      const docs = await sw.documents(o.taskId);
      expect(docs.map((d) => d.sageId)).toEqual([invoices[0]!.id]);
    }
  });
});
