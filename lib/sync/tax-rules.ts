import { z } from "zod";
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
 * These are the defaults shown in Settings, where the reseller can edit them (tenant_settings.tax_rules;
 * null = these defaults): a rule may also name one customer country and/or one product (MPN), and
 * the most specific matching rule wins (product and country > product > country > region), ties
 * by table order.
 */
export const TAX_REGIONS = ["domestic", "eu", "world"] as const;
export type TaxRegion = (typeof TAX_REGIONS)[number];
export const TAX_TREATMENTS = ["item_rate", "reverse_charge", "outside_scope", "zero_rated", "exempt"] as const;
export type TaxTreatment = (typeof TAX_TREATMENTS)[number];
export type TaxRule = {
  region: TaxRegion;
  /** one customer country (ISO 3166 alpha-2) instead of the whole region; it must lie in the region */
  country?: string | null;
  vatRegistered: boolean | "any";
  /** one marketplace product (MPN) instead of every product */
  mpn?: string | null;
  treatment: TaxTreatment;
};

export const MAX_TAX_RULES = 100;

export const taxRuleSchema = z
  .object({
    region: z.enum(TAX_REGIONS, { message: "choose where the customer is" }),
    country: z
      .string()
      .trim()
      .transform((v) => v.toUpperCase())
      .refine((v) => v === "" || /^[A-Z]{2}$/.test(v), "a country is two letters (ISO 3166), e.g. IE")
      .transform((v) => v || null)
      .nullish(),
    vatRegistered: z.union([z.boolean(), z.literal("any")], { message: "choose Yes, No or Any" }),
    mpn: z
      .string()
      .trim()
      .max(100, "an MPN is at most 100 characters")
      .transform((v) => v || null)
      .nullish(),
    treatment: z.enum(TAX_TREATMENTS, { message: "choose a Sage tax rate" }),
  })
  .strict();

/** A rule table as the reseller saves it; `businessCountry` checks that a rule's country lies in its region. */
export function taxRulesSchemaFor(businessCountry: string) {
  const business = businessCountry.toUpperCase();
  return z
    .array(taxRuleSchema)
    .min(1, "keep at least one rule")
    .max(MAX_TAX_RULES, `at most ${MAX_TAX_RULES} rules`)
    .superRefine((rules, ctx) => {
      rules.forEach((r, i) => {
        if (!r.country || !/^[A-Z]{2}$/.test(r.country)) return; // a malformed country has its own message
        const region: TaxRegion = r.country === business ? "domestic" : EU_COUNTRIES.has(r.country) ? "eu" : "world";
        if (region !== r.region) ctx.addIssue({ code: "custom", path: [i, "country"], message: `${r.country} is not ${REGION_WORDS[r.region]} for a business in ${business}` });
      });
      const seen = new Map<string, number>();
      rules.forEach((r, i) => {
        const key = `${r.region}|${r.country ?? ""}|${String(r.vatRegistered)}|${r.mpn ?? ""}`;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: "custom", path: [i], message: `rule ${i + 1} covers the same customers and products as rule ${first + 1}` });
        else seen.set(key, i);
      });
    });
}

const REGION_WORDS: Record<TaxRegion, string> = { domestic: "the business's own country", eu: "another EU country", world: "outside the EU" };

/** The tenant's rules: the saved table when it is valid, else the defaults for the business's country. */
export function effectiveTaxRules(stored: unknown, businessCountry: string): TaxRule[] {
  if (stored === null || stored === undefined) return defaultTaxRules(businessCountry);
  const parsed = z.array(taxRuleSchema).min(1).safeParse(stored);
  return parsed.success ? parsed.data : defaultTaxRules(businessCountry);
}
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

/** The rule that decides a line: the most specific match (product 2, country 1), ties by table order. */
export function taxRuleFor(rules: TaxRule[], c: TaxCase, mpn?: string | null): TaxRule | null {
  let best: TaxRule | null = null;
  let bestScore = -1;
  for (const r of rules) {
    if (r.region !== c.region) continue;
    if (r.country && r.country !== c.country) continue;
    if (r.vatRegistered !== "any" && r.vatRegistered !== c.vatRegistered) continue;
    if (r.mpn && r.mpn !== mpn) continue;
    const score = (r.mpn ? 2 : 0) + (r.country ? 1 : 0);
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best;
}

export function treatmentFor(rules: TaxRule[], c: TaxCase, mpn?: string | null): TaxTreatment {
  return taxRuleFor(rules, c, mpn)?.treatment ?? "item_rate";
}

/** The suffix of Sage's tax rate id for a fixed treatment (the business country's own rates: GB_NO_TAX, IE_ZERO …). */
export const TREATMENT_RATE_SUFFIX: Record<Exclude<TaxTreatment, "item_rate">, { suffix: string; name: string }> = {
  reverse_charge: { suffix: "ZERO", name: "Zero" },
  zero_rated: { suffix: "ZERO", name: "Zero" },
  exempt: { suffix: "EXEMPT", name: "Exempt" },
  outside_scope: { suffix: "NO_TAX", name: "No VAT" },
};

/** The Sage tax rate id for a treatment: the item's, or Sage's own Zero / Exempt / No VAT rate of the business country. */
export function taxRateIdFor(treatment: TaxTreatment, businessCountry: string, itemRateId: string, available: Map<string, unknown>): string | null {
  if (treatment === "item_rate") return itemRateId;
  const id = `${businessCountry.toUpperCase()}_${TREATMENT_RATE_SUFFIX[treatment].suffix}`;
  return available.has(id) ? id : null;
}

export const TREATMENT_LABELS: Record<TaxTreatment, string> = {
  item_rate: "The Sage item's tax rate (else the business default)",
  reverse_charge: "Reverse charge: zero-rated",
  outside_scope: "Outside the scope of VAT (No VAT)",
  zero_rated: "Zero-rated (Zero)",
  exempt: "Exempt from VAT (Exempt)",
};

const REGION_LABEL: Record<TaxRegion, (business: string) => string> = {
  domestic: (b) => `In ${b}`,
  eu: () => "In another EU country",
  world: () => "Outside the EU",
};

/** One rule in words, as Settings and the Action Log show it. */
export function describeTaxRule(rule: TaxRule, businessCountry: string): string {
  const where = rule.country ? `In ${rule.country}` : REGION_LABEL[rule.region](businessCountry.toUpperCase());
  const vat = rule.vatRegistered === "any" ? "any VAT number" : rule.vatRegistered ? "with a VAT number" : "without a VAT number";
  return `${where}, ${vat}${rule.mpn ? `, product ${rule.mpn}` : ""} → ${TREATMENT_LABELS[rule.treatment]}`;
}
