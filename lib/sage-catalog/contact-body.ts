import { z } from "zod";
import type { SageContactDraft } from "@/lib/sage/target";

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
 * A marketplace customer as a Sage customer contact — one builder for every path that creates
 * contacts (Mapping's "Create contact in Sage" and the sync engine): name, reference (= marketplace
 * customer id), currency, the billing address (a UK VAT invoice needs it), the contact person with
 * e-mail and phone, and the tax (VAT) number. The target turns it into its own body.
 */
export function contactDraftOf(customer: { name: string; email: string | null; currency: string | null; marketplaceCustomerId: string; raw: unknown }): SageContactDraft {
  const info = billingContactOf(customer.raw);
  const a = info.address;
  return {
    name: customer.name,
    reference: customer.marketplaceCustomerId,
    // invoices must be in the contact's currency: the customer's marketplace currency
    currency: customer.currency,
    email: customer.email ?? info.email ?? null,
    phone: info.phone,
    contactName: info.contact_name,
    taxNumber: info.tax_id?.replace(/\s+/g, "").toUpperCase(),
    address: a ? { line1: a.line1, line2: a.line2, city: a.city, postalCode: a.postal_code, region: a.state, country: a.country?.toUpperCase() } : undefined,
  };
}
