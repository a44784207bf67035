import { z } from "zod";

/**
 * What the marketplace tells us about a customer's billing contact (`contact_info` of the customers
 * API, docs/marketplace-api.md), read leniently from the stored raw record: an order's thin copy
 * may carry only the e-mail, and a field of the wrong shape is dropped, never sent to Sage.
 */
const text = z.string().trim().min(1).max(255).optional().catch(undefined);
const contactInfoSchema = z
  .object({
    email: text,
    contact_name: text,
    phone: text,
    tax_id: text,
    address: z
      .object({ line1: text, line2: text, city: text, postal_code: text, state: text, country: z.string().trim().regex(/^[A-Za-z]{2}$/).optional().catch(undefined) })
      .optional()
      .catch(undefined),
  })
  .catch({});

export type MarketplaceBillingContact = z.infer<typeof contactInfoSchema>;

export function billingContactOf(raw: unknown): MarketplaceBillingContact {
  const info = raw && typeof raw === "object" ? (raw as { contact_info?: unknown }).contact_info : undefined;
  return contactInfoSchema.parse(info ?? {});
}

/** The customer's country (ISO 3166 alpha-2, upper case) from its billing address, if given. */
export function customerCountryOf(raw: unknown): string | undefined {
  return billingContactOf(raw).address?.country?.toUpperCase();
}

/**
 * The `contact` body of `POST /contacts` for a marketplace customer — one builder for every path
 * that creates contacts (Mapping's "Create contact in Sage" and the sync engine): name, reference
 * (= marketplace customer id), currency, the billing address (a UK VAT invoice needs it), the
 * contact person with e-mail and phone, and the tax (VAT) number.
 */
export function sageContactBody(customer: { name: string; email: string | null; currency: string | null; marketplaceCustomerId: string; raw: unknown }): Record<string, unknown> {
  const info = billingContactOf(customer.raw);
  const email = customer.email ?? info.email;
  const a = info.address;
  const address =
    a && (a.line1 || a.city || a.postal_code)
      ? {
          address_line_1: a.line1,
          address_line_2: a.line2,
          city: a.city,
          postal_code: a.postal_code,
          region: a.state,
          country_id: a.country?.toUpperCase(),
          is_main_address: true,
        }
      : undefined;
  const person =
    email || info.phone || info.contact_name
      ? { name: info.contact_name ?? customer.name, email, telephone: info.phone, is_main_contact: true }
      : undefined;
  return dropUndefined({
    name: customer.name,
    contact_type_ids: ["CUSTOMER"],
    reference: customer.marketplaceCustomerId,
    // invoices must be in the contact's currency: the customer's marketplace currency
    currency_id: customer.currency ?? undefined,
    main_address: address && dropUndefined(address),
    main_contact_person: person && dropUndefined(person),
    tax_number: info.tax_id?.replace(/\s+/g, "").toUpperCase(),
  });
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
