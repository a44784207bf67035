import { describe, expect, it } from "vitest";
import { defaultTaxRules, taxCaseOf, taxRateIdFor, treatmentFor, validLookingVatNumber } from "@/lib/sync/tax-rules";

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
});
