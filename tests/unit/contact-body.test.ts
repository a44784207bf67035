import { describe, expect, it } from "vitest";
import { contactBody } from "@/lib/sage/accounting/operations";
import { contactDraftOf } from "@/lib/sage-catalog/contact-body";

/** The domain's contact draft as Sage Accounting's `POST /contacts` body. */
const sageContactBody = (c: Parameters<typeof contactDraftOf>[0]) => contactBody(contactDraftOf(c));

const base = { name: "Adatum GmbH", email: "rechnung@adatum.example", currency: "EUR", marketplaceCustomerId: "TA-1001-0004" };

describe("sageContactBody: the Sage contact for a marketplace customer", () => {
  it("carries the billing address, contact person, phone and VAT number", () => {
    const raw = { contact_info: { email: "rechnung@adatum.example", contact_name: "Anna Becker", phone: "+49 30 901820", tax_id: "de 812 345 678", address: { line1: "Friedrichstraße 68", city: "Berlin", postal_code: "10117", country: "de" } } };
    expect(sageContactBody({ ...base, raw })).toEqual({
      name: "Adatum GmbH",
      contact_type_ids: ["CUSTOMER"],
      reference: "TA-1001-0004",
      currency_id: "EUR",
      main_address: { address_line_1: "Friedrichstraße 68", city: "Berlin", postal_code: "10117", country_id: "DE", is_main_address: true },
      main_contact_person: { name: "Anna Becker", email: "rechnung@adatum.example", telephone: "+49 30 901820", is_main_contact: true },
      tax_number: "DE812345678",
    });
  });

  it("an order's thin copy (e-mail only) and empty or wrongly shaped fields send no address, phone or tax number", () => {
    const raw = { contact_info: { email: "x@y.example", contact_name: "", phone: 42, tax_id: "", address: { line1: "", city: "", postal_code: "", country: "Germany" } } };
    expect(sageContactBody({ ...base, email: null, raw })).toEqual({
      name: "Adatum GmbH",
      contact_type_ids: ["CUSTOMER"],
      reference: "TA-1001-0004",
      currency_id: "EUR",
      main_contact_person: { name: "Adatum GmbH", email: "x@y.example", is_main_contact: true },
    });
    expect(sageContactBody({ ...base, email: null, currency: null, raw: {} })).toEqual({ name: "Adatum GmbH", contact_type_ids: ["CUSTOMER"], reference: "TA-1001-0004" });
  });
});
