import type { SageContactRecord, SageDocumentDraft, SageItemRecord, SageUploadRecordResult } from "../target";

/**
 * Sage 50 Cloud's e-Commerce solution schema (SAGE-OTHER-PRODUCTS.md §B) to and from the domain's
 * records: Products and Customers come down as files, Orders go up.
 */

export type Sage50Product = { id: string; reference?: string | null; name: string; shortDescription?: string | null; netPrice: number | string; tax: number | string; discount?: number | string | null };
export type Sage50Customer = {
  id: string;
  idNumber?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  companyName?: string | null;
  email?: string | null;
  currency?: string | null;
};
export type Sage50ResultRecord = { id: string; status: "accepted" | "failed"; documentType?: "invoice" | "creditNote"; documentNumber?: string | null; message?: string | null };

/** The tax rate id the planner uses for a Sage 50 rate (the e-Commerce schema carries rates as percentages). */
export const sage50TaxRateId = (percentage: number) => `rate:${Number(percentage)}`;
export function percentageOfTaxRateId(id: string): number {
  const m = /^rate:(-?\d+(?:\.\d+)?)$/.exec(id);
  if (!m) throw new Error(`Not a Sage 50 tax rate: ${id}`);
  return Number(m[1]);
}

export function itemOfProduct(p: Sage50Product): SageItemRecord {
  return {
    id: p.id,
    type: "product",
    displayedAs: p.name,
    itemCode: p.reference ?? null,
    description: p.name,
    active: true,
    prices: [{ name: "Selling Price", amount: p.netPrice }],
    salesLedgerAccountId: null,
    salesTaxRateId: sage50TaxRateId(Number(p.tax)),
  };
}

export function contactOfCustomer(c: Sage50Customer): SageContactRecord {
  const person = [c.firstName, c.lastName].filter(Boolean).join(" ");
  const name = c.companyName || person || c.id;
  return { id: c.id, displayedAs: name, name, reference: c.idNumber ?? null, email: c.email ?? null, currency: c.currency ?? null };
}

/** An invoice or credit note as an e-Commerce Order record (the order id is the record's id: Sage 50's own duplicate guard). */
export function orderOfDocument(d: SageDocumentDraft) {
  return {
    id: d.reference,
    type: d.kind === "sales_invoice" ? "invoice" : "creditNote",
    orderDate: d.date,
    customer: { id: d.contactId },
    currency: d.currency,
    currencyRate: d.exchangeRate ?? 1,
    discount: 0,
    paymentMethod: "on_account",
    totalShipping: 0,
    lines: d.lines.map((l) => ({
      productId: l.productId ?? l.serviceId,
      description: l.description,
      quantity: l.quantity,
      netPrice: l.unitPrice,
      tax: percentageOfTaxRateId(l.taxRateId),
    })),
  };
}

export function resultOfRecord(r: Sage50ResultRecord): SageUploadRecordResult {
  return { reference: r.id, status: r.status, documentNumber: r.documentNumber ?? null, message: r.message ?? null, kind: r.documentType === "creditNote" ? "sales_credit_note" : "sales_invoice" };
}
