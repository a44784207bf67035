import { normalizeKey } from "@/lib/mapping/common";
import { contactDraftOf } from "@/lib/sage-catalog/contact-body";
import { SageError } from "@/lib/sage/errors";
import type { SageConnectionApi, SageContactRecord } from "@/lib/sage/target";
import { idempotencyIds } from "./documents";

/**
 * One contact matcher for every path that needs a marketplace customer's Sage contact (the sync's
 * contact step, Sync all, Mapping's "Create contact in Sage"): never a second contact for a customer.
 */

export type ContactMatch = { by: "stored_id" | "email" | "reference" | "name"; contact: SageContactRecord };

/** Where the matcher looks contacts up: the live Sage business (SageConnectionApi), or a directory of contacts read from it. */
export type ContactLookup = Pick<SageConnectionApi, "getContact" | "findContactsByEmail" | "findContactsByReference">;

/**
 * The contacts of a business read in pages (the re-sync review), as a lookup for the same matcher:
 * the same rules as against Sage itself (e-mail and reference case-insensitive), no calls per customer.
 */
export function contactDirectory(records: SageContactRecord[]): ContactLookup & { findContactsByName(name: string): Promise<SageContactRecord[]> } {
  const byId = new Map(records.map((c) => [c.id, c]));
  const index = (key: (c: SageContactRecord) => string | null) => {
    const m = new Map<string, SageContactRecord[]>();
    for (const c of records) {
      const k = normalizeKey(key(c));
      if (k) m.set(k, [...(m.get(k) ?? []), c]);
    }
    return m;
  };
  const byEmail = index((c) => c.email);
  const byReference = index((c) => c.reference);
  const byName = index((c) => c.name ?? c.displayedAs);
  return {
    getContact: async (id) => byId.get(id) ?? null,
    findContactsByEmail: async (email) => byEmail.get(normalizeKey(email)) ?? [],
    findContactsByReference: async (reference) => byReference.get(normalizeKey(reference)) ?? [],
    findContactsByName: async (name) => byName.get(normalizeKey(name)) ?? [],
  };
}

export type CustomerForContact = { name: string; email: string | null; currency: string | null; marketplaceCustomerId: string; raw: unknown; storedSageId?: string | null };

/**
 * Match before create: the stored Sage id (if Sage still has it), then the contact person e-mail,
 * then the reference (= marketplace customer id, exact and case-insensitive among the candidates);
 * against a directory (the re-sync review) also the name, when exactly one contact has it.
 */
export async function matchSageContact(
  api: ContactLookup,
  customer: CustomerForContact,
  /** the re-sync review's last step, against a directory only: the contacts of exactly this name */
  opts: { byName?: (name: string) => Promise<SageContactRecord[]> } = {},
): Promise<ContactMatch | null> {
  if (customer.storedSageId) {
    const stored = await api.getContact(customer.storedSageId);
    if (stored) return { by: "stored_id", contact: stored };
  }
  if (customer.email) {
    const byEmail = (await api.findContactsByEmail(customer.email))[0];
    if (byEmail) return { by: "email", contact: byEmail };
  }
  const exact = (await api.findContactsByReference(customer.marketplaceCustomerId)).find((c) => normalizeKey(c.reference) === normalizeKey(customer.marketplaceCustomerId));
  if (exact) return { by: "reference", contact: exact };
  // a directory only: the one contact with exactly the customer's name (several → no match, never a guess)
  if (opts.byName && customer.name.trim()) {
    const named = await opts.byName(customer.name);
    if (named.length === 1) return { by: "name", contact: named[0]! };
  }
  return null;
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
