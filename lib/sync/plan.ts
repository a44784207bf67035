import type { SageCapabilityTable } from "@/lib/sage/target";
import type { OrderType, TaskItemDelta } from "@/db/schema";
import type { SettingsInput } from "@/lib/settings/settings";
import { TREATMENT_RATE_SUFFIX, taxRateIdFor, treatmentFor, type TaxCase, type TaxRule, type TaxTreatment } from "./tax-rules";

const TREATMENT_WORDS: Record<Exclude<TaxTreatment, "item_rate">, string> = {
  reverse_charge: "under the reverse charge",
  outside_scope: "outside the scope of VAT",
  zero_rated: "zero-rated by your tax rules",
  exempt: "exempt from VAT by your tax rules",
};

/**
 * Pure planning: an order (task) + the seven settings + the mappings → the Sage documents to
 * write. No I/O; every rule of DESIGN.md flow 6 that can be decided without Sage lives here.
 */

export type SageItemForPlan = {
  sageItemId: string;
  type: "product" | "service";
  description: string;
  salesPrice: string | null;
  salesLedgerAccountId: string | null;
  salesTaxRateId: string | null;
};

export type MarketplaceProductForPlan = { name: string; description: string | null; unitPrice: string | null; kind: "item" | "fee" };

export type TaxRateForPlan = { id: string; percentage: number };

export type PlanInput = {
  orderId: string;
  orderType: OrderType;
  items: TaskItemDelta[];
  settings: Pick<SettingsInput, "priceSource" | "trimDescription" | "downgrades">;
  /** marketplace catalog by MPN */
  products: Map<string, MarketplaceProductForPlan>;
  /** product mappings by MPN */
  itemMappings: Map<string, SageItemForPlan>;
  /** the Sage item the cancellation fee is invoiced as */
  cancellationFee: SageItemForPlan | null;
  taxRates: Map<string, TaxRateForPlan>;
  defaults: { ledgerAccountId: string; taxRateId: string };
  /**
   * The order's currency against the Sage business's: an order in another currency is invoiced in
   * that currency at Sage's stored exchange rate (units of it per 1 base unit) — never at a silent 1.
   * Absent (callers that predate it): the order is taken to be in the base currency.
   */
  currency?: CurrencyForPlan;
  /** the customer's tax case and the business's rules: which Sage tax rate each line takes */
  tax?: { businessCountry: string; rules: TaxRule[]; customer: TaxCase };
  /**
   * The Sage product written to and what its API can do (lib/sage/target.ts): a plan that needs a
   * document the target cannot create is action_required with the reason, never a crash or a skip.
   * Absent: every document kind is taken to be writable.
   */
  target?: { label: string; capabilities: SageCapabilityTable };
};

export type CurrencyForPlan = { order: string | null; base: string; multiCurrency: boolean; exchangeRates: Map<string, number> };

export type PlannedLine = {
  mpn: string;
  description: string;
  quantity: number;
  unitPrice: number;
  netAmount: number;
  taxRateId: string;
  taxAmount: number;
  ledgerAccountId: string;
  productId?: string;
  serviceId?: string;
};

export type SyncPlan =
  | { kind: "action_required"; reason: string; link: string | null; unmapped: string[]; cause?: "currency" }
  | { kind: "write"; invoiceLines: PlannedLine[]; creditNoteLines: PlannedLine[]; notes: string[]; exchangeRate: number | null };

const round2 = (n: number) => Math.round((n + Number.EPSILON) * 100) / 100;

function toNumber(v: string | null | undefined): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function taxRateIdOf(input: PlanInput, item: SageItemForPlan, treatment: TaxTreatment): string {
  const itemRateId = item.salesTaxRateId ?? input.defaults.taxRateId;
  return input.tax ? (taxRateIdFor(treatment, input.tax.businessCountry, itemRateId, input.taxRates) ?? itemRateId) : itemRateId;
}

function line(input: PlanInput, mpn: string, quantity: number, item: SageItemForPlan, orderUnitPrice: string | null | undefined, notes: string[], exchangeRate: number | null, treatment: TaxTreatment = "item_rate", statedAmount?: string | null): PlannedLine {
  const product = input.products.get(mpn);
  const marketplacePrice = toNumber(orderUnitPrice) ?? toNumber(product?.unitPrice);
  // Sage's item prices are in the business's base currency: converted at the invoice's rate
  const sageBasePrice = toNumber(item.salesPrice);
  const sagePrice = sageBasePrice === null || exchangeRate === null ? sageBasePrice : round2(sageBasePrice * exchangeRate);
  let unitPrice: number;
  if (input.settings.priceSource === "sage") {
    if (sagePrice === null) notes.push(`${item.description}: no sales price in Sage, the marketplace price was used`);
    unitPrice = sagePrice ?? marketplacePrice ?? 0;
  } else {
    if (marketplacePrice === null) notes.push(`${product?.name ?? mpn}: no marketplace price, the Sage price was used`);
    unitPrice = marketplacePrice ?? sagePrice ?? 0;
  }
  const name = input.settings.priceSource === "sage" ? item.description : (product?.name ?? item.description);
  const full = input.settings.priceSource === "sage" ? item.description : [product?.name ?? item.description, product?.description].filter(Boolean).join(" — ");
  const description = input.settings.trimDescription ? name : full;
  const taxRateId = taxRateIdOf(input, item, treatment);
  const percentage = input.taxRates.get(taxRateId)?.percentage ?? 0;
  // the marketplace's stated charge for the line (pro-rated, usage) is what is invoiced — not
  // recomputed from unit price × quantity; the unit price carries it to six places so Sage's
  // quantity × unit price gives the same net amount
  const stated = input.settings.priceSource === "marketplace" ? toNumber(statedAmount) : null;
  let netAmount = round2(quantity * unitPrice);
  let linePrice = round2(unitPrice);
  if (stated !== null && quantity > 0) {
    const net = round2(Math.abs(stated));
    if (Math.abs(net - netAmount) >= 0.005) notes.push(`${product?.name ?? mpn}: ${net.toFixed(2)} as charged by the marketplace (not ${quantity} × ${linePrice.toFixed(2)})`);
    netAmount = net;
    linePrice = Math.round((net / quantity) * 1e6) / 1e6;
  }
  return {
    mpn,
    description,
    quantity,
    unitPrice: linePrice,
    netAmount,
    taxRateId,
    taxAmount: round2((netAmount * percentage) / 100),
    ledgerAccountId: item.salesLedgerAccountId ?? input.defaults.ledgerAccountId,
    ...(item.type === "product" ? { productId: item.sageItemId } : { serviceId: item.sageItemId }),
  };
}

export function planSync(input: PlanInput): SyncPlan {
  const plan = planDocuments(input);
  return plan.kind === "write" && input.target ? (capabilityGap(plan, input.target) ?? plan) : plan;
}

/** What the plan needs that the target cannot do, as the task's action_required reason (null: nothing). */
export function capabilityGap(plan: Extract<SyncPlan, { kind: "write" }>, target: { label: string; capabilities: SageCapabilityTable }): Extract<SyncPlan, { kind: "action_required" }> | null {
  const missing: string[] = [];
  if (plan.invoiceLines.length > 0 && !target.capabilities.invoices.create) missing.push("an invoice");
  if (plan.creditNoteLines.length > 0 && !target.capabilities.credit_notes.create) missing.push("a credit note");
  if (missing.length === 0) return null;
  return {
    kind: "action_required",
    reason: `This order needs ${missing.join(" and ")}, which ${target.label} cannot create through the connector. Record it in Sage by hand, then ignore the task. Nothing was written to Sage.`,
    link: null,
    unmapped: [],
  };
}

function planDocuments(input: PlanInput): SyncPlan {
  // 0. an order that is itself unusable stays action_required (never "synced" with nothing written)
  const invalid = input.items.flatMap((d) => {
    const problem = (d as TaskItemDelta & { invalid?: unknown }).invalid;
    return typeof problem === "string" && problem ? [problem] : [];
  });
  if (invalid.length > 0) {
    return { kind: "action_required", reason: `${invalid.join("; ")}. Correct the order in the marketplace or ignore the task. Nothing was written to Sage.`, link: null, unmapped: [] };
  }
  if (input.items.length === 0) {
    return { kind: "action_required", reason: "The order lists no items, so there is nothing to invoice. Check the order in the marketplace or ignore the task. Nothing was written to Sage.", link: null, unmapped: [] };
  }

  // 1. every line must resolve to a Sage item, or nothing is written
  const unmapped: string[] = [];
  const unmappedMpns = new Set<string>();
  const resolve = (d: TaskItemDelta): SageItemForPlan | null => {
    const product = input.products.get(d.mpn);
    const item = product?.kind === "fee" ? (input.cancellationFee ?? input.itemMappings.get(d.mpn) ?? null) : (input.itemMappings.get(d.mpn) ?? null);
    if (!item && d.change !== "unchanged") {
      unmapped.push(product ? `${product.name} (${d.mpn})` : d.mpn);
      unmappedMpns.add(d.mpn);
    }
    return item;
  };
  const resolved = input.items.map((d) => ({ d, item: resolve(d) }));
  if (unmapped.length > 0) {
    const isFee = input.items.some((d) => input.products.get(d.mpn)?.kind === "fee" && !input.cancellationFee && !input.itemMappings.get(d.mpn));
    return {
      kind: "action_required",
      reason: `Map ${unmapped.length === 1 ? "this product" : "these products"} to a Sage item first: ${unmapped.join(", ")}. Nothing was written to Sage.`,
      // one product: the Mapping screen opens on it (searched by MPN); several: the unmapped list
      link: isFee
        ? "/mapping/products?tab=fees"
        : unmappedMpns.size === 1
          ? `/mapping/products?unmapped=1&search=${encodeURIComponent([...unmappedMpns][0]!)}`
          : "/mapping/products?unmapped=1",
      unmapped,
    };
  }

  const notes: string[] = [];
  // 2. the currency: the base currency, or a foreign one the business takes, at Sage's rate
  let exchangeRate: number | null = null;
  const cur = input.currency;
  if (cur?.order && cur.order.toUpperCase() !== cur.base.toUpperCase()) {
    const code = cur.order.toUpperCase();
    if (!cur.multiCurrency) {
      return {
        kind: "action_required",
        reason: `This order is in ${code}, but the Sage business works in ${cur.base} only (foreign currencies are off in Sage). Turn on multi-currency in Sage (Settings › Financial Settings) or bill this customer in ${cur.base} in the marketplace, then Sync again. Nothing was written to Sage.`,
        link: null,
        unmapped: [],
        cause: "currency",
      };
    }
    const rate = cur.exchangeRates.get(code);
    if (!rate || !(rate > 0)) {
      return {
        kind: "action_required",
        reason: `This order is in ${code}, and Sage has no exchange rate from ${cur.base} to ${code}. Add the rate in Sage (Settings › Currencies), then Sync again. Nothing was written to Sage.`,
        link: null,
        unmapped: [],
        cause: "currency",
      };
    }
    exchangeRate = rate;
  }

  // 3. tax: by the customer's country and VAT registration (and the product), per the tenant's rules
  const treatments = new Map<string, TaxTreatment>();
  if (input.tax) {
    const tax = input.tax;
    for (const { d } of resolved) treatments.set(d.mpn, treatmentFor(tax.rules, tax.customer, d.mpn));
    for (const treatment of new Set(treatments.values())) {
      if (treatment === "item_rate") continue;
      if (taxRateIdFor(treatment, tax.businessCountry, "", input.taxRates) === null) {
        const { suffix, name } = TREATMENT_RATE_SUFFIX[treatment];
        return {
          kind: "action_required",
          reason: `This customer (${tax.customer.country ?? "no country"}) is invoiced ${TREATMENT_WORDS[treatment]}, but the Sage business has no “${name}” sales tax rate (${tax.businessCountry}_${suffix}). Add it in Sage, or change the rule in Settings › VAT by customer, then Sync again. Nothing was written to Sage.`,
          link: null,
          unmapped: [],
        };
      }
      if (treatment === "reverse_charge") notes.push(`Reverse charge: ${tax.customer.vatNumber} (${tax.customer.country}) accounts for the VAT`);
      if (treatment === "outside_scope") notes.push(`Outside the scope of ${tax.businessCountry} VAT: customer in ${tax.customer.country}${tax.customer.vatRegistered ? `, VAT ${tax.customer.vatNumber}` : ""}`);
      if (treatment === "zero_rated" || treatment === "exempt") {
        const which = [...treatments].filter(([, t]) => t === treatment).map(([mpn]) => input.products.get(mpn)?.name ?? mpn);
        notes.push(`${treatment === "zero_rated" ? "Zero-rated" : "Exempt from VAT"} by your tax rules: ${which.join(", ")}`);
      }
    }
  }

  // 4. lines by order type and per-item change
  const invoiceLines: PlannedLine[] = [];
  const creditNoteLines: PlannedLine[] = [];
  const refunds = input.settings.downgrades === "credit_note";
  for (const { d, item } of resolved) {
    if (!item) continue;
    const isFee = input.products.get(d.mpn)?.kind === "fee";
    switch (d.change) {
      case "added":
      case "upgrade":
      case "usage": {
        const qty = d.change === "usage" || (d.change === "added" && input.orderType !== "change") ? d.quantity : d.delta;
        if (qty > 0) invoiceLines.push(line(input, d.mpn, isFee ? Math.max(qty, 1) : qty, item, d.unitPrice, notes, exchangeRate, treatments.get(d.mpn), d.amount));
        break;
      }
      case "downgrade":
      case "removed": {
        const qty = Math.abs(d.delta);
        if (qty === 0) break;
        if (refunds) creditNoteLines.push(line(input, d.mpn, qty, item, d.unitPrice, notes, exchangeRate, treatments.get(d.mpn), d.amount));
        else notes.push(`${input.products.get(d.mpn)?.name ?? d.mpn}: quantity ${d.oldQuantity} → ${d.quantity} recorded without a credit note (setting: quantity changes only)`);
        break;
      }
      case "unchanged":
        break;
    }
  }
  if (invoiceLines.length === 0 && creditNoteLines.length === 0 && notes.length === 0) notes.push("Nothing to invoice or credit for this order");
  return { kind: "write", invoiceLines, creditNoteLines, notes, exchangeRate };
}

export function documentTotals(lines: PlannedLine[]) {
  const net = round2(lines.reduce((s, l) => s + l.netAmount, 0));
  const tax = round2(lines.reduce((s, l) => s + l.taxAmount, 0));
  return { net, tax, total: round2(net + tax) };
}
