import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "@/db/client";
import { marketplaceCustomers, marketplaceProducts } from "@/db/schema";
import { MappingError, NOTHING_SAVED, requireActiveConnection } from "./common";

/**
 * Checks before queuing work for an Inngest function (which is what talks to Sage): the tenant
 * has a Sage connection and the records exist. Returns one request id per record; the function
 * writes its outcome to the Action Log under that id.
 */

export const refreshInputSchema = z.object({
  source: z.enum(["sage", "marketplace", "both"], { message: "source must be sage, marketplace or both" }).default("both"),
});

export async function planRefresh(q: Queryable, input: { tenantId: string; source: "sage" | "marketplace" | "both" }) {
  const sources = input.source === "both" ? (["marketplace", "sage"] as const) : ([input.source] as const);
  const connectionId = sources.includes("sage" as never) ? (await requireActiveConnection(q, input.tenantId)).id : null;
  return sources.map((source) => ({ source, requestId: randomUUID(), connectionId }));
}

export async function planAddProductsToSage(q: Queryable, input: { tenantId: string; productIds: string[] }) {
  const connection = await requireActiveConnection(q, input.tenantId);
  const ids = [...new Set(input.productIds)];
  const rows = await q
    .select({ id: marketplaceProducts.id, kind: marketplaceProducts.kind })
    .from(marketplaceProducts)
    .where(and(eq(marketplaceProducts.tenantId, input.tenantId), inArray(marketplaceProducts.id, ids)));
  if (rows.length !== ids.length) throw new MappingError("not_found", `Some of the selected products do not exist (refresh the page). ${NOTHING_SAVED}`);
  return ids.map((productId) => ({ productId, requestId: randomUUID(), connectionId: connection.id }));
}

export async function planCreateContacts(q: Queryable, input: { tenantId: string; customerIds: string[] }) {
  const connection = await requireActiveConnection(q, input.tenantId);
  const ids = [...new Set(input.customerIds)];
  const rows = await q
    .select({ id: marketplaceCustomers.id })
    .from(marketplaceCustomers)
    .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), inArray(marketplaceCustomers.id, ids)));
  if (rows.length !== ids.length) throw new MappingError("not_found", `Some of the selected customers do not exist (refresh the page). ${NOTHING_SAVED}`);
  return ids.map((customerId) => ({ customerId, requestId: randomUUID(), connectionId: connection.id }));
}
