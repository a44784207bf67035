import { billingContactOf } from "@/lib/sage-catalog/contact-body";

/**
 * Which Sage tax rate a line takes, by where the customer is and whether it is a VAT-registered
 * business (a valid-looking VAT number of its own country), for the business's country:
 *
 * | business | customer                         | treatment                                   |
 * |----------|----------------------------------|---------------------------------------------|
 * | GB       | in GB                            | the item's rate (else the business default) |
 * | GB       | in the EU, with a VAT number     | outside the scope of UK VAT (GB_NO_TAX)     |
 * | GB       | in the EU, without one           | the item's rate                             |
 * | GB       | elsewhere                        | outside the scope of UK VAT (GB_NO_TAX)     |
 * | IE       | in IE                            | the item's rate                             |
 * | IE       | in another EU state, VAT number  | reverse charge: zero-rated (IE_ZERO)        |
 * | IE       | in another EU state, without     | the item's rate                             |
 * | IE       | outside the EU                   | outside the scope of Irish VAT (IE_NO_TAX)  |
 *
 * These are the defaults shown in Settings; the rule table is not yet editable there (issue #11).
 */
export type TaxRegion = "domestic" | "eu" | "world";
export type TaxTreatment = "item_rate" | "reverse_charge" | "outside_scope";
export type TaxRule = { region: TaxRegion; vatRegistered: boolean | "any"; treatment: TaxTreatment };
export type TaxCase = { country: string | null; region: TaxRegion; vatRegistered: boolean; vatNumber: string | null };

export const EU_COUNTRIES = new Set(["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]);

export function defaultTaxRules(businessCountry: string): TaxRule[] {
  const c = businessCountry.toUpperCase();
  if (EU_COUNTRIES.has(c)) {
    return [
      { region: "domestic", vatRegistered: "any", treatment: "item_rate" },
      { region: "eu", vatRegistered: true, treatment: "reverse_charge" },
      { region: "eu", vatRegistered: false, treatment: "item_rate" },
      { region: "world", vatRegistered: "any", treatment: "outside_scope" },
    ];
  }
  // GB (and any other non-EU business): EU customers are outside its VAT area like the rest of the world,
  // except consumers, who are charged the domestic rate
  return [
    { region: "domestic", vatRegistered: "any", treatment: "item_rate" },
    { region: "eu", vatRegistered: true, treatment: "outside_scope" },
    { region: "eu", vatRegistered: false, treatment: "item_rate" },
    { region: "world", vatRegistered: "any", treatment: "outside_scope" },
  ];
}

/** A VAT number that looks like one of the customer's own country (Greece uses EL; GB and XI for the UK). */
export function validLookingVatNumber(vat: string | null | undefined, country: string | null): boolean {
  if (!vat || !country) return false;
  const v = vat.replace(/[\s.-]/g, "").toUpperCase();
  const prefixes = country === "GR" ? ["EL", "GR"] : country === "GB" ? ["GB", "XI"] : [country];
  return prefixes.some((p) => v.startsWith(p)) && /^[A-Z]{2}[0-9A-Z]{2,13}$/.test(v) && /\d/.test(v.slice(2));
}

/** The customer's tax case from its marketplace record (billing address country, VAT number). */
export function taxCaseOf(businessCountry: string, customerRaw: unknown): TaxCase {
  const info = billingContactOf(customerRaw);
  const country = info.address?.country?.toUpperCase() ?? null;
  const business = businessCountry.toUpperCase();
  const region: TaxRegion = !country || country === business ? "domestic" : EU_COUNTRIES.has(country) ? "eu" : "world";
  const vatNumber = info.tax_id?.replace(/\s+/g, "").toUpperCase() ?? null;
  return { country, region, vatRegistered: validLookingVatNumber(vatNumber, country), vatNumber };
}

export function treatmentFor(rules: TaxRule[], c: TaxCase): TaxTreatment {
  const rule = rules.find((r) => r.region === c.region && (r.vatRegistered === "any" || r.vatRegistered === c.vatRegistered));
  return rule?.treatment ?? "item_rate";
}

/** The Sage tax rate id for a treatment: Sage's own "No VAT" / "Zero" rates of the business country. */
export function taxRateIdFor(treatment: TaxTreatment, businessCountry: string, itemRateId: string, available: Map<string, unknown>): string | null {
  if (treatment === "item_rate") return itemRateId;
  const id = `${businessCountry.toUpperCase()}_${treatment === "outside_scope" ? "NO_TAX" : "ZERO"}`;
  return available.has(id) ? id : null;
}

export const TREATMENT_LABELS: Record<TaxTreatment, string> = {
  item_rate: "The Sage item's tax rate (else the business default)",
  reverse_charge: "Reverse charge: zero-rated",
  outside_scope: "Outside the scope of VAT (No VAT)",
};
