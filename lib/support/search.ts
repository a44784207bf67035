import { and, desc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "@/db/client";
import { connections, installations, marketplaceCustomers, sageDocuments, syncTasks, tenants, type TaskState } from "@/db/schema";

/**
 * Support's one search box, across every tenant: a tenant by name, marketplace account, installation
 * or Sage business; an order by its marketplace order id, its customer (id or name), or a Sage
 * document it produced (Sage id, number such as SI-12, or reference). Exact ids first, then
 * names that contain the text. Bounded: at most `limit` tenants and `limit` orders.
 */
export const supportSearchSchema = z.object({
  q: z
    .string()
    .trim()
    .min(2, "Type at least 2 characters.")
    .max(200, "Search for at most 200 characters.")
    .refine((s) => !s.includes("\u0000"), "The search must not contain U+0000."),
});

export type SupportTenantHit = { tenantId: string; name: string; marketplaceAccountId: string; matchedBy: string };
export type SupportOrderHit = {
  taskId: string;
  tenantId: string;
  tenantName: string;
  marketplaceOrderId: string;
  customerId: string;
  customerName: string | null;
  orderType: string;
  state: TaskState;
  createdAt: Date;
  matchedBy: string;
};
export type SupportSearchResult = { tenants: SupportTenantHit[]; orders: SupportOrderHit[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The text as an ILIKE pattern that matches only itself (case-insensitively): `%`, `_` and `\\` escaped. */
function literally(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `%text%` for ILIKE, with the pattern characters escaped. */
function containing(text: string) {
  return `%${literally(text)}%`;
}

export async function supportSearch(db: Queryable, rawQuery: string, limit = 20): Promise<SupportSearchResult> {
  const q = rawQuery.trim();
  const like = containing(q);
  const same = literally(q);
  // exact matches on lower(…) (an index each): the same as ILIKE of the escaped text, and indexable
  const lower = q.toLowerCase();
  const isUuid = UUID.test(q);

  // ─── tenants ───
  const tenantHits = new Map<string, SupportTenantHit>();
  const addTenant = (t: { id: string; name: string; account: string }, matchedBy: string) => {
    if (!tenantHits.has(t.id) && tenantHits.size < limit) tenantHits.set(t.id, { tenantId: t.id, name: t.name, marketplaceAccountId: t.account, matchedBy });
  };
  const tenantCols = { id: tenants.id, name: tenants.name, account: tenants.marketplaceAccountId };
  for (const t of await db
    .select(tenantCols)
    .from(tenants)
    .where(or(isUuid ? eq(tenants.id, q) : undefined, ilike(tenants.marketplaceAccountId, same), ilike(tenants.name, like)))
    .orderBy(tenants.name)
    .limit(limit)) {
    addTenant(t, isUuid && t.id === q.toLowerCase() ? "tenant id" : t.account.toLowerCase() === q.toLowerCase() ? "marketplace account" : "tenant name");
  }
  for (const t of await db
    .select(tenantCols)
    .from(installations)
    .innerJoin(tenants, eq(tenants.id, installations.tenantId))
    .where(eq(installations.marketplaceInstallationId, q))
    .limit(limit)) addTenant(t, "marketplace installation");
  for (const t of await db
    .selectDistinct({ ...tenantCols, business: connections.businessName })
    .from(connections)
    .innerJoin(tenants, eq(tenants.id, connections.tenantId))
    .where(or(eq(connections.businessId, q), ilike(connections.businessName, like)))
    .limit(limit)) addTenant(t, `Sage business ${t.business ?? q}`);

  // ─── orders ───
  const orderHits = new Map<string, SupportOrderHit>();
  const taskCols = {
    taskId: syncTasks.id,
    tenantId: syncTasks.tenantId,
    tenantName: tenants.name,
    marketplaceOrderId: syncTasks.marketplaceOrderId,
    customerId: syncTasks.marketplaceCustomerId,
    customerName: marketplaceCustomers.name,
    orderType: syncTasks.orderType,
    state: syncTasks.state,
    createdAt: syncTasks.createdAt,
  };
  const tasksWhere = async (where: ReturnType<typeof and>, matchedBy: string) => {
    if (orderHits.size >= limit) return;
    const rows = await db
      .select(taskCols)
      .from(syncTasks)
      .innerJoin(tenants, eq(tenants.id, syncTasks.tenantId))
      .leftJoin(marketplaceCustomers, and(eq(marketplaceCustomers.tenantId, syncTasks.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, syncTasks.marketplaceCustomerId)))
      .where(where)
      .orderBy(desc(syncTasks.createdAt))
      .limit(limit - orderHits.size);
    for (const r of rows) if (!orderHits.has(r.taskId)) orderHits.set(r.taskId, { ...r, matchedBy });
  };
  await tasksWhere(or(eq(syncTasks.marketplaceOrderId, q), isUuid ? eq(syncTasks.id, q) : undefined), "marketplace order id");
  await tasksWhere(eq(syncTasks.marketplaceCustomerId, q), "customer id");
  const documentTasks = await db
    .selectDistinct({ taskId: sageDocuments.taskId })
    .from(sageDocuments)
    .where(and(sql`${sageDocuments.taskId} is not null`, or(eq(sageDocuments.sageId, q), sql`lower(${sageDocuments.displayedAs}) = ${lower}`, sql`lower(${sageDocuments.reference}) = ${lower}`)))
    .limit(limit);
  const docIds = documentTasks.map((d) => d.taskId).filter((id): id is string => !!id);
  if (docIds.length) await tasksWhere(inArray(syncTasks.id, docIds), "Sage document");
  const customers = await db
    .select({ tenantId: marketplaceCustomers.tenantId, customerId: marketplaceCustomers.marketplaceCustomerId })
    .from(marketplaceCustomers)
    .where(or(ilike(marketplaceCustomers.name, like), sql`lower(${marketplaceCustomers.email}) = ${lower}`))
    .limit(limit);
  if (customers.length) {
    await tasksWhere(or(...customers.map((c) => and(eq(syncTasks.tenantId, c.tenantId), eq(syncTasks.marketplaceCustomerId, c.customerId)))), "customer name");
  }
  return { tenants: [...tenantHits.values()], orders: [...orderHits.values()] };
}
