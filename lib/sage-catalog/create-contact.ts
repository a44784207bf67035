import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { customerMappings, marketplaceCustomers } from "@/db/schema";
import { type Actor } from "@/lib/log/action-log";
import { MappingError, NOTHING_SAVED, requireActiveConnection } from "@/lib/mapping/common";
import { mapCustomersInTx } from "@/lib/mapping/customers";
import { recordRequestFailure } from "@/lib/mapping/status";
import { SageError } from "@/lib/sage/errors";
import type { SageRetryPolicy } from "@/lib/sage/target";
import { findOrCreateSageContact, type ContactMatch } from "@/lib/sync/contacts";
import { connectionTarget } from "@/lib/connections/sage-session";
import { catalogConnection, contactCacheValues, upsertCachedContacts } from "./refresh";

export const createContactsInputSchema = z.object({
  customerIds: z.array(z.string().uuid("Unknown customer id")).min(1, "Select at least one customer.").max(200, "Create at most 200 contacts at a time."),
});

export type CreateContactResult =
  | { ok: true; outcome: "created" | "matched"; matchedBy?: ContactMatch["by"]; sageContactId: string }
  | { ok: false; kind: string; message: string };

/**
 * "Create contact in Sage" (run by an Inngest function). Never a second contact for the same
 * customer: match first (stored id → e-mail → reference); only then POST /contacts with
 * `reference` = marketplace customer id and an `idempotency_id`; then cache and map.
 */
export async function createSageContactForCustomer(
  db: Database,
  input: { tenantId: string; customerId: string; actor: Actor; requestId: string; policy?: Partial<SageRetryPolicy> },
): Promise<CreateContactResult> {
  const what = "Create contact in Sage";
  const [customer] = await db
    .select({
      id: marketplaceCustomers.id,
      marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId,
      name: marketplaceCustomers.name,
      email: marketplaceCustomers.email,
      currency: marketplaceCustomers.currency,
      raw: marketplaceCustomers.raw,
      storedSageId: customerMappings.sageContactId,
    })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, and(eq(customerMappings.tenantId, marketplaceCustomers.tenantId), eq(customerMappings.customerId, marketplaceCustomers.id)))
    .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), eq(marketplaceCustomers.id, input.customerId)));
  const fail = async (kind: string, message: string, details: Record<string, unknown> = {}) => {
    await recordRequestFailure(db, {
      tenantId: input.tenantId,
      actor: input.actor,
      requestId: input.requestId,
      what: customer ? `${what} for ${customer.name} (${customer.marketplaceCustomerId})` : what,
      message,
      details: { op: "customer_create_in_sage", customerId: input.customerId, ...details },
    });
    return { ok: false as const, kind, message };
  };
  if (!customer) return fail("not_found", `That marketplace customer does not exist. ${NOTHING_SAVED}`);
  let connection: Awaited<ReturnType<typeof requireActiveConnection>>;
  try {
    connection = await requireActiveConnection(db, input.tenantId);
  } catch (e) {
    if (e instanceof MappingError) return fail(e.reason, e.message);
    throw e;
  }

  const target = await connectionTarget(db, connection.id);
  if (!target.capabilities.contacts.create) return fail("validation", `${target.label} cannot create customers through the connector: create it in ${target.label}, wait for its next data file (or click Refresh from Sage), then map it. ${NOTHING_SAVED}`);
  const sage = catalogConnection(db, connection.id, input.policy);
  let contact: Awaited<ReturnType<typeof findOrCreateSageContact>>["contact"];
  let match: ContactMatch | null = null;
  try {
    // one matcher with the sync (stored id → e-mail → reference), then one create; a create whose
    // outcome is unknown is thrown for the function's retry, which matches first again
    const found = await findOrCreateSageContact(sage, { tenantId: input.tenantId, customer });
    contact = found.contact;
    if (found.matchedBy) match = { by: found.matchedBy, contact: found.contact };
  } catch (e) {
    if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome") throw e;
    return fail(e.kind, `Sage refused: ${e.message}${e.details[0]?.source ? ` (${e.details[0].source})` : ""}. ${NOTHING_SAVED}`, { kind: e.kind, status: e.status });
  }

  const row = contactCacheValues(input.tenantId, connection.id, contact, new Date());
  await upsertCachedContacts(db, [row]);
  const label = `Sage contact “${row.name}”${row.reference ? ` (${row.reference})` : ""}`;
  const how = { stored_id: "its stored Sage id", email: "e-mail", reference: "reference", name: "name" } as const;
  try {
    await db.transaction((tx) =>
      mapCustomersInTx(tx, {
        tenantId: input.tenantId,
        customerIds: [customer.id],
        sageContactId: row.sageId,
        actor: input.actor,
        requestId: input.requestId,
        via: match ? `create_in_sage_matched_${match.by}` : "create_in_sage",
        message: match
          ? `Found in Sage by ${how[match.by]} and mapped: ${customer.name} (${customer.marketplaceCustomerId}) → ${label} (no new contact created)`
          : `Created in Sage and mapped: ${customer.name} (${customer.marketplaceCustomerId}) → new ${label}`,
      }),
    );
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    return fail(e.reason, e.message, { sageContactId: row.sageId });
  }
  return match ? { ok: true, outcome: "matched", matchedBy: match.by, sageContactId: row.sageId } : { ok: true, outcome: "created", sageContactId: row.sageId };
}
