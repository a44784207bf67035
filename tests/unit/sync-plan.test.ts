import { describe, expect, it } from "vitest";
import type { TaskItemDelta } from "@/db/schema";
import { documentTotals, planSync, type PlanInput, type SageItemForPlan } from "@/lib/sync/plan";

const m365: SageItemForPlan = { sageItemId: "svc-m365", type: "service", description: "M365 Standard (Sage)", salesPrice: "11.00", salesLedgerAccountId: "la-4000", salesTaxRateId: "GB_STANDARD" };
const fee: SageItemForPlan = { sageItemId: "svc-fee", type: "service", description: "Cancellation fee", salesPrice: "25.00", salesLedgerAccountId: "la-4900", salesTaxRateId: "GB_STANDARD" };
const delta = (mpn: string, oldQuantity: number, quantity: number, change: TaskItemDelta["change"], unitPrice: string | null = "12.50"): TaskItemDelta => ({ mpn, oldQuantity, quantity, change, delta: quantity - oldQuantity, unitPrice });

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    orderId: "PR-1",
    orderType: "sales",
    items: [delta("M365-STD", 0, 10, "added")],
    settings: { priceSource: "marketplace", trimDescription: false, downgrades: "credit_note" },
    products: new Map([
      ["M365-STD", { name: "Microsoft 365 Business Standard", description: "Desktop apps, mailbox", unitPrice: "12.50", kind: "item" as const }],
      ["FEE-CANCEL", { name: "Cancellation fee", description: null, unitPrice: "30.00", kind: "fee" as const }],
    ]),
    itemMappings: new Map([["M365-STD", m365]]),
    cancellationFee: fee,
    taxRates: new Map([["GB_STANDARD", { id: "GB_STANDARD", percentage: 20 }], ["GB_ZERO", { id: "GB_ZERO", percentage: 0 }]]),
    defaults: { ledgerAccountId: "la-default", taxRateId: "GB_STANDARD" },
    ...over,
  };
}

describe("planSync", () => {
  it("a new subscription becomes one invoice line at the marketplace price with tax", () => {
    const plan = planSync(input());
    expect(plan).toMatchObject({ kind: "write", creditNoteLines: [] });
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines).toEqual([
      { mpn: "M365-STD", description: "Microsoft 365 Business Standard — Desktop apps, mailbox", quantity: 10, unitPrice: 12.5, netAmount: 125, taxRateId: "GB_STANDARD", taxAmount: 25, ledgerAccountId: "la-4000", serviceId: "svc-m365" },
    ]);
    expect(documentTotals(plan.invoiceLines)).toEqual({ net: 125, tax: 25, total: 150 });
  });

  it("price and description source Sage uses the Sage item's price and description", () => {
    const plan = planSync(input({ settings: { priceSource: "sage", trimDescription: false, downgrades: "credit_note" } }));
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines[0]).toMatchObject({ unitPrice: 11, description: "M365 Standard (Sage)", netAmount: 110, taxAmount: 22 });
  });

  it("currency: the base currency has no rate; a foreign one carries Sage's stored rate, and Sage's (base-currency) price is converted at it", () => {
    const fx = (order: string | null, over: { multiCurrency?: boolean; rates?: [string, number][] } = {}) => ({ order, base: "GBP", multiCurrency: over.multiCurrency ?? true, exchangeRates: new Map(over.rates ?? [["EUR", 1.17]]) });
    expect(planSync(input({ currency: fx("GBP") }))).toMatchObject({ kind: "write", exchangeRate: null });
    expect(planSync(input({ currency: fx(null) }))).toMatchObject({ kind: "write", exchangeRate: null });
    const eur = planSync(input({ currency: fx("eur"), settings: { priceSource: "sage", trimDescription: false, downgrades: "credit_note" } }));
    if (eur.kind !== "write") throw new Error(JSON.stringify(eur));
    expect(eur.exchangeRate).toBe(1.17);
    // 11.00 GBP in Sage → 12.87 EUR on the EUR invoice
    expect(eur.invoiceLines[0]).toMatchObject({ unitPrice: 12.87, netAmount: 128.7, taxAmount: 25.74 });
    // the marketplace price is already in the order's currency: taken as it is
    const eurMarketplace = planSync(input({ currency: fx("EUR") }));
    if (eurMarketplace.kind !== "write") throw new Error();
    expect(eurMarketplace.invoiceLines[0]).toMatchObject({ unitPrice: 12.5, netAmount: 125 });
    expect(planSync(input({ currency: fx("EUR", { multiCurrency: false }) }))).toMatchObject({ kind: "action_required", cause: "currency", reason: expect.stringMatching(/^This order is in EUR, but the Sage business works in GBP only/) });
    expect(planSync(input({ currency: fx("USD") }))).toMatchObject({ kind: "action_required", cause: "currency", reason: expect.stringMatching(/^This order is in USD, and Sage has no exchange rate from GBP to USD\./) });
  });

  it("trim description keeps only the product name", () => {
    const plan = planSync(input({ settings: { priceSource: "marketplace", trimDescription: true, downgrades: "credit_note" } }));
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines[0]!.description).toBe("Microsoft 365 Business Standard");
  });

  it("an unmapped product → action_required naming it, and no lines at all", () => {
    const plan = planSync(input({ items: [delta("M365-STD", 0, 1, "added"), delta("BACKUP-1TB", 0, 2, "added")] }));
    expect(plan.kind).toBe("action_required");
    if (plan.kind !== "action_required") throw new Error();
    expect(plan.unmapped).toEqual(["BACKUP-1TB"]);
    expect(plan.reason).toContain("BACKUP-1TB");
    expect(plan.link).toBe("/mapping/products?unmapped=1&search=BACKUP-1TB");
  });

  it("two unmapped products → the link opens the whole unmapped list", () => {
    const plan = planSync(input({ items: [delta("BACKUP-1TB", 0, 2, "added"), delta("VAULT-9", 0, 1, "added")] }));
    expect(plan).toMatchObject({ kind: "action_required", unmapped: ["BACKUP-1TB", "VAULT-9"], link: "/mapping/products?unmapped=1" });
  });

  it("upgrade invoices the added quantity only", () => {
    const plan = planSync(input({ orderType: "change", items: [delta("M365-STD", 10, 15, "upgrade")] }));
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines.map((l) => l.quantity)).toEqual([5]);
    expect(plan.creditNoteLines).toEqual([]);
  });

  it("downgrade: credit note for the reduced quantity, or nothing with 'quantity changes only'", () => {
    const refund = planSync(input({ orderType: "change", items: [delta("M365-STD", 10, 7, "downgrade")] }));
    if (refund.kind !== "write") throw new Error();
    expect(refund.creditNoteLines.map((l) => [l.quantity, l.netAmount])).toEqual([[3, 37.5]]);
    expect(refund.invoiceLines).toEqual([]);
    const qtyOnly = planSync(input({ orderType: "change", items: [delta("M365-STD", 10, 7, "downgrade")], settings: { priceSource: "marketplace", trimDescription: false, downgrades: "quantity_only" } }));
    if (qtyOnly.kind !== "write") throw new Error();
    expect(qtyOnly.creditNoteLines).toEqual([]);
    expect(qtyOnly.notes.join()).toContain("10 → 7");
  });

  it("cancellation: the mapped fee is invoiced; with refunds on, the cancelled quantity is credited", () => {
    const items = [delta("M365-STD", 10, 0, "removed"), delta("FEE-CANCEL", 0, 1, "added", "30.00")];
    const plan = planSync(input({ orderType: "cancellation", items }));
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines.map((l) => [l.serviceId, l.quantity, l.unitPrice])).toEqual([["svc-fee", 1, 30]]);
    expect(plan.creditNoteLines.map((l) => [l.serviceId, l.quantity])).toEqual([["svc-m365", 10]]);
    const unmappedFee = planSync(input({ orderType: "cancellation", items, cancellationFee: null }));
    expect(unmappedFee).toMatchObject({ kind: "action_required", link: "/mapping/products?tab=fees" });
  });

  it("usage billing invoices the usage quantity; zero-rated items carry no tax", () => {
    const zero = { ...m365, salesTaxRateId: "GB_ZERO" };
    const plan = planSync(input({ orderType: "billing", items: [delta("M365-STD", 0, 42, "usage", "0.10")], itemMappings: new Map([["M365-STD", zero]]) }));
    if (plan.kind !== "write") throw new Error();
    expect(plan.invoiceLines[0]).toMatchObject({ quantity: 42, netAmount: 4.2, taxRateId: "GB_ZERO", taxAmount: 0 });
  });
});
