import { and, asc, count, eq, ilike, isNull, or, sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { productMappings, sageContacts, sageItems, customerMappings } from "@/db/schema";
import { activeConnection, likePattern, MappingError, NOTHING_SAVED } from "./common";

export type SageItemOption = {
  sageId: string;
  type: "product" | "service";
  itemCode: string | null;
  description: string;
  salesPrice: string | null;
  active: boolean;
  /** marketplace products mapped to it */
  mappedProducts: number;
};

export type SageContactOption = {
  sageId: string;
  name: string;
  reference: string | null;
  email: string | null;
  currency: string | null;
  mappedCustomers: number;
};

/** The Sage item picker: the cached items of the active connection, searchable by code or description. */
export async function searchSageItems(q: Queryable, tenantId: string, opts: { search?: string; limit?: number } = {}): Promise<SageItemOption[]> {
  const connection = await activeConnection(q, tenantId);
  if (!connection) return [];
  const search = opts.search?.trim();
  const used = q
    .select({ sageItemId: productMappings.sageItemId, n: count().as("n") })
    .from(productMappings)
    .where(eq(productMappings.tenantId, tenantId))
    .groupBy(productMappings.sageItemId)
    .as("used");
  const rows = await q
    .select({
      sageId: sageItems.sageId,
      type: sageItems.type,
      itemCode: sageItems.itemCode,
      description: sageItems.description,
      salesPrice: sageItems.salesPrice,
      active: sageItems.active,
      mappedProducts: sql<number>`coalesce(${used.n}, 0)::int`,
    })
    .from(sageItems)
    .leftJoin(used, eq(used.sageItemId, sageItems.sageId))
    .where(
      and(
        eq(sageItems.connectionId, connection.id),
        // deleted in Sage 50 (missing from its latest Products file): never offered for a new mapping
        isNull(sageItems.deletedInSageAt),
        search ? or(ilike(sageItems.itemCode, likePattern(search)), ilike(sageItems.description, likePattern(search))) : undefined,
      ),
    )
    .orderBy(asc(sageItems.itemCode), asc(sageItems.description))
    .limit(Math.min(Math.max(opts.limit ?? 50, 1), 200));
  return rows;
}

export async function searchSageContacts(q: Queryable, tenantId: string, opts: { search?: string; limit?: number } = {}): Promise<SageContactOption[]> {
  const connection = await activeConnection(q, tenantId);
  if (!connection) return [];
  const search = opts.search?.trim();
  const used = q
    .select({ sageContactId: customerMappings.sageContactId, n: count().as("n") })
    .from(customerMappings)
    .where(eq(customerMappings.tenantId, tenantId))
    .groupBy(customerMappings.sageContactId)
    .as("used");
  return q
    .select({
      sageId: sageContacts.sageId,
      name: sageContacts.name,
      reference: sageContacts.reference,
      email: sageContacts.email,
      currency: sageContacts.currency,
      mappedCustomers: sql<number>`coalesce(${used.n}, 0)::int`,
    })
    .from(sageContacts)
    .leftJoin(used, eq(used.sageContactId, sageContacts.sageId))
    .where(
      and(
        eq(sageContacts.connectionId, connection.id),
        // deleted in Sage 50 (missing from its latest Customers file): never offered for a new mapping
        isNull(sageContacts.deletedInSageAt),
        search
          ? or(ilike(sageContacts.name, likePattern(search)), ilike(sageContacts.reference, likePattern(search)), ilike(sageContacts.email, likePattern(search)))
          : undefined,
      ),
    )
    .orderBy(asc(sageContacts.name))
    .limit(Math.min(Math.max(opts.limit ?? 50, 1), 200));
}

/** A Sage item as the last refresh saw it; refused clearly when Sage no longer has it. */
export async function requireCachedSageItem(q: Queryable, connectionId: string, sageItemId: string) {
  const [item] = await q.select().from(sageItems).where(and(eq(sageItems.connectionId, connectionId), eq(sageItems.sageId, sageItemId)));
  if (!item) {
    throw new MappingError(
      "sage_item_missing",
      `That Sage item no longer exists in Sage (it was not found when the items were last refreshed from Sage). Refresh from Sage and choose another item. ${NOTHING_SAVED}`,
    );
  }
  if (item.deletedInSageAt) {
    throw new MappingError("sage_item_missing", `That item was deleted in Sage 50 (it is missing from the latest Products file). Choose another item. ${NOTHING_SAVED}`);
  }
  return item;
}

export async function requireCachedSageContact(q: Queryable, connectionId: string, sageContactId: string) {
  const [contact] = await q.select().from(sageContacts).where(and(eq(sageContacts.connectionId, connectionId), eq(sageContacts.sageId, sageContactId)));
  if (!contact) {
    throw new MappingError(
      "sage_contact_missing",
      `That Sage contact no longer exists in Sage (it was not found when the contacts were last refreshed from Sage). Refresh from Sage and choose another contact. ${NOTHING_SAVED}`,
    );
  }
  if (contact.deletedInSageAt) {
    throw new MappingError("sage_contact_missing", `That customer was deleted in Sage 50 (it is missing from the latest Customers file). Choose another customer. ${NOTHING_SAVED}`);
  }
  return contact;
}

export function describeSageItem(item: { type: string; itemCode: string | null; description: string }): string {
  return `Sage ${item.type} ${item.itemCode ? `${item.itemCode} ` : ""}“${item.description}”`;
}
