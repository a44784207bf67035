import { normalizeKey } from "@/lib/mapping/common";
import { contactDraftOf } from "@/lib/sage-catalog/contact-body";
import { SageError } from "@/lib/sage/errors";
import type { SageConnectionApi, SageContactRecord } from "@/lib/sage/target";
import { idempotencyIds } from "./documents";

/**
 * One contact matcher for every path that needs a marketplace customer's Sage contact (the sync's
 * contact step, Sync all, Mapping's "Create contact in Sage"): never a second contact for a customer.
 */

export type ContactMatch = { by: "stored_id" | "email" | "reference"; contact: SageContactRecord };

export type CustomerForContact = { name: string; email: string | null; currency: string | null; marketplaceCustomerId: string; raw: unknown; storedSageId?: string | null };

/**
 * Match before create: the stored Sage id (if Sage still has it), then the contact person e-mail,
 * then the reference (= marketplace customer id, exact and case-insensitive among the candidates).
 */
export async function matchSageContact(api: SageConnectionApi, customer: CustomerForContact): Promise<ContactMatch | null> {
  if (customer.storedSageId) {
    const stored = await api.getContact(customer.storedSageId);
    if (stored) return { by: "stored_id", contact: stored };
  }
  if (customer.email) {
    const byEmail = (await api.findContactsByEmail(customer.email))[0];
    if (byEmail) return { by: "email", contact: byEmail };
  }
  const exact = (await api.findContactsByReference(customer.marketplaceCustomerId)).find((c) => normalizeKey(c.reference) === normalizeKey(customer.marketplaceCustomerId));
  return exact ? { by: "reference", contact: exact } : null;
}

const unsure = (e: unknown) => e instanceof SageError && (e.kind === "unknown_outcome" || e.kind === "retryable" || e.kind === "rate_limit");

/**
 * The customer's Sage contact: matched, else created with the customer's idempotency id. A create
 * whose outcome is unknown (answer lost or cut off) or that met an unavailable Sage is matched again
 * before it is ever sent again — found then means our create went through — up to `attempts`
 * creates; then the error goes to the caller (whose retry matches first too).
 */
export async function findOrCreateSageContact(
  api: SageConnectionApi,
  input: { tenantId: string; customer: CustomerForContact; attempts?: number },
): Promise<{ contact: SageContactRecord; created: boolean; matchedBy?: ContactMatch["by"] }> {
  const attempts = input.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    const match = await matchSageContact(api, input.customer);
    // matched after one of our creates was sent: that create went through
    if (match) return attempt > 1 ? { contact: match.contact, created: true } : { contact: match.contact, created: false, matchedBy: match.by };
    try {
      const contact = await api.createContact(contactDraftOf(input.customer), idempotencyIds.contact(input.tenantId, input.customer.marketplaceCustomerId));
      return { contact, created: true };
    } catch (e) {
      if (!unsure(e) || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
    }
  }
}
