import { describe, expect, it } from "vitest";
import { defaultTaxRules, effectiveTaxRules, taxCaseOf, taxRateIdFor, taxRulesSchemaFor, treatmentFor, validLookingVatNumber, type TaxRule } from "@/lib/sync/tax-rules";

const raw = (country: string, tax_id = "") => ({ contact_info: { address: { line1: "1", city: "c", postal_code: "p", country }, tax_id } });
const IE_RATES = new Map([["IE_STANDARD", {}], ["IE_ZERO", {}], ["IE_NO_TAX", {}]]);

describe("tax rules", () => {
  it("an Irish business: domestic at the item rate, an EU business customer reverse-charged (IE_ZERO), outside the EU no VAT", () => {
    const rules = defaultTaxRules("IE");
    const rate = (r: unknown) => taxRateIdFor(treatmentFor(rules, taxCaseOf("IE", r)), "IE", "IE_STANDARD", IE_RATES);
    expect(rate(raw("IE"))).toBe("IE_STANDARD");
    expect(rate(raw("DE", "DE812345678"))).toBe("IE_ZERO");
    expect(rate(raw("DE"))).toBe("IE_STANDARD");
    expect(rate(raw("GB", "GB987654321"))).toBe("IE_NO_TAX");
    expect(rate(raw("US"))).toBe("IE_NO_TAX");
    expect(rate({})).toBe("IE_STANDARD"); // no address: taken as domestic
  });
  it("a VAT number must look like one of the customer's country", () => {
    expect(validLookingVatNumber("IE 9876543 WH", "IE")).toBe(true);
    expect(validLookingVatNumber("EL123456789", "GR")).toBe(true);
    expect(validLookingVatNumber("FR12345678901", "DE")).toBe(false);
    expect(validLookingVatNumber("DE", "DE")).toBe(false);
    expect(validLookingVatNumber("", "DE")).toBe(false);
  });
  it("a treatment whose Sage rate the business lacks resolves to nothing (the planner asks for it)", () => {
    expect(taxRateIdFor("outside_scope", "IE", "IE_STANDARD", new Map([["IE_STANDARD", {}]]))).toBeNull();
  });
  it("the most specific rule wins: product and country over product over country over region; ties by table order", () => {
    const rules: TaxRule[] = [
      { region: "world", vatRegistered: "any", treatment: "outside_scope" },
      { region: "world", country: "US", vatRegistered: "any", treatment: "exempt" },
      { region: "world", vatRegistered: "any", mpn: "SKU-1", treatment: "zero_rated" },
      { region: "world", country: "US", vatRegistered: "any", mpn: "SKU-1", treatment: "item_rate" },
      { region: "world", vatRegistered: "any", mpn: "SKU-2", treatment: "zero_rated" },
      { region: "world", vatRegistered: "any", mpn: "SKU-2", treatment: "exempt" },
    ];
    const us = taxCaseOf("GB", raw("US"));
    const ca = taxCaseOf("GB", raw("CA"));
    expect([treatmentFor(rules, us, "SKU-9"), treatmentFor(rules, us, "SKU-1"), treatmentFor(rules, ca, "SKU-1"), treatmentFor(rules, ca, "SKU-9"), treatmentFor(rules, ca, "SKU-2")]).toEqual([
      "exempt",
      "item_rate",
      "zero_rated",
      "outside_scope",
      "zero_rated",
    ]);
    // no matching rule at all: the item's rate
    expect(treatmentFor([{ region: "eu", vatRegistered: true, treatment: "reverse_charge" }], us, "SKU-1")).toBe("item_rate");
  });
  it("a saved table is used only when valid; otherwise (and when none is saved) the defaults of the business country", () => {
    expect(effectiveTaxRules(null, "IE")).toEqual(defaultTaxRules("IE"));
    expect(effectiveTaxRules([{ region: "mars", vatRegistered: "any", treatment: "item_rate" }], "IE")).toEqual(defaultTaxRules("IE"));
    expect(effectiveTaxRules([{ region: "eu", vatRegistered: true, treatment: "exempt" }], "IE")).toEqual([{ region: "eu", vatRegistered: true, treatment: "exempt" }]);
    const parsed = taxRulesSchemaFor("IE").safeParse([{ region: "domestic", country: "ie", vatRegistered: "any", mpn: " ", treatment: "item_rate" }, { region: "eu", country: "GBR", vatRegistered: "any", treatment: "item_rate" }]);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual(["1.country: a country is two letters (ISO 3166), e.g. IE"]);
    expect(taxRulesSchemaFor("IE").parse([{ region: "domestic", country: "ie", vatRegistered: "any", mpn: " ", treatment: "item_rate" }])).toEqual([{ region: "domestic", country: "IE", vatRegistered: "any", mpn: null, treatment: "item_rate" }]);
    expect(taxRulesSchemaFor("IE").safeParse([]).success).toBe(false);
  });
});
