import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { customerMappings, marketplaceCustomers } from "@/db/schema";
import { type Actor } from "@/lib/log/action-log";
import { MappingError, normalizeKey, NOTHING_SAVED, requireActiveConnection } from "@/lib/mapping/common";
import { mapCustomersInTx } from "@/lib/mapping/customers";
import { recordRequestFailure } from "@/lib/mapping/status";
import { collectSagePages, deriveIdempotencyId, unwrap, type SageAccountingClient } from "@/lib/sage/accounting/api";
import type { RetryPolicy } from "@/lib/sage/accounting/retry";
import { SageError } from "@/lib/sage/errors";
import { sageContactBody } from "./contact-body";
import { CONTACT_ATTRIBUTES, contactCacheValues, sageClientFor, upsertCachedContacts, type SageContactDto } from "./refresh";

export const createContactsInputSchema = z.object({
  customerIds: z.array(z.string().uuid("Unknown customer id")).min(1, "Select at least one customer.").max(200, "Create at most 200 contacts at a time."),
});

/**
 * The `idempotency_id` of the Sage contact create for one marketplace customer (tenant + customer
 * id) — the same derivation the sync engine uses, so either path creating it sends the same id.
 */
export function contactIdempotencyId(tenantId: string, marketplaceCustomerId: string): string {
  return deriveIdempotencyId(tenantId, marketplaceCustomerId, "contact");
}

export type ContactMatch = { by: "stored_id" | "email" | "reference"; contact: SageContactDto };

/**
 * Match before create: the stored Sage id (if Sage still has it), then the contact person e-mail
 * (`/contacts?email=`), then the reference (= marketplace customer id, `search=` then exact).
 */
export async function findExistingSageContact(
  sage: SageAccountingClient,
  customer: { email: string | null; marketplaceCustomerId: string; storedSageId: string | null },
): Promise<ContactMatch | null> {
  if (customer.storedSageId) {
    try {
      const contact = unwrap(await sage.GET("/contacts/{key}", { params: { path: { key: customer.storedSageId }, query: { attributes: CONTACT_ATTRIBUTES } } }));
      return { by: "stored_id", contact: contact as SageContactDto };
    } catch (e) {
      if (!(e instanceof SageError) || e.kind !== "not_found") throw e;
    }
  }
  if (customer.email) {
    const byEmail = await collectSagePages<SageContactDto>(sage, `/contacts?email=${encodeURIComponent(customer.email)}&contact_type_id=CUSTOMER&items_per_page=200&attributes=${CONTACT_ATTRIBUTES}`);
    if (byEmail[0]) return { by: "email", contact: byEmail[0] };
  }
  const byReference = await collectSagePages<SageContactDto>(sage, `/contacts?search=${encodeURIComponent(customer.marketplaceCustomerId)}&items_per_page=200&attributes=${CONTACT_ATTRIBUTES}`);
  const exact = byReference.find((c) => normalizeKey(c.reference) === normalizeKey(customer.marketplaceCustomerId));
  return exact ? { by: "reference", contact: exact } : null;
}

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
  input: { tenantId: string; customerId: string; actor: Actor; requestId: string; policy?: Partial<RetryPolicy> },
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

  const sage = sageClientFor(db, connection.id, input.policy);
  let contact: SageContactDto;
  let match: ContactMatch | null;
  try {
    match = await findExistingSageContact(sage, customer);
    if (match) contact = match.contact;
    else {
      const created = unwrap(
        await sage.POST("/contacts", {
          body: {
            contact: { ...sageContactBody(customer), idempotency_id: await contactIdempotencyId(input.tenantId, customer.marketplaceCustomerId) },
          } as never,
        }),
      );
      contact = { ...(created as SageContactDto), email: customer.email };
    }
  } catch (e) {
    if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome") throw e;
    return fail(e.kind, `Sage refused: ${e.message}${e.details[0]?.source ? ` (${e.details[0].source})` : ""}. ${NOTHING_SAVED}`, { kind: e.kind, status: e.status });
  }

  const row = contactCacheValues(input.tenantId, connection.id, contact, new Date());
  await upsertCachedContacts(db, [row]);
  const label = `Sage contact “${row.name}”${row.reference ? ` (${row.reference})` : ""}`;
  const how = { stored_id: "its stored Sage id", email: "e-mail", reference: "reference" } as const;
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
