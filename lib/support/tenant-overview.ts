import { and, desc, eq, isNotNull, max } from "drizzle-orm";
import type { Database } from "@/db/client";
import { actionLog, connections, installations, marketplaceProducts, productMappings, sageRateBudgets, syncBatches, syncTasks, tenants, type TaskState } from "@/db/schema";
import { sageBudgetKey } from "@/lib/connections/rate-budget";
import { customerCounts } from "@/lib/mapping/customers";
import { productCounts } from "@/lib/mapping/products";
import { getSettings } from "@/lib/settings/settings";
import { taskCounts } from "@/lib/tasks/tasks";

/**
 * Everything support reads about one tenant on its console page, never a credential: installations,
 * connections (status, token age from its issued-at time, the last refresh or key rotation, last sync,
 * the rate budget of its Sage business used right now), task counts by state, settings and mappings.
 */
export type SupportConnection = {
  id: string;
  name: string;
  target: string;
  status: string;
  businessName: string | null;
  businessId: string | null;
  tokensIssuedAt: Date | null;
  tokenAgeSeconds: number | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  lastRefresh: { at: Date; message: string } | null;
  lastSyncAt: Date | null;
  rateBudget: { used: number; limit: number; periodMs: number } | null;
  lastError: string | null;
  createdAt: Date;
};

export type SupportTenantOverview = {
  tenant: { id: string; name: string; marketplaceAccountId: string; createdAt: Date };
  installations: { marketplaceId: string; brandId: string; marketplaceInstallationId: string | null; installedAt: Date; uninstalledAt: Date | null; purgeAfter: Date | null }[];
  connections: SupportConnection[];
  taskCounts: Record<TaskState, number>;
  settings: Awaited<ReturnType<typeof getSettings>>;
  mappings: {
    products: { total: number; mapped: number; unmapped: number };
    customers: { total: number; mapped: number; unmapped: number };
    mappedProducts: { mpn: string; name: string; sageItemName: string; sageItemCode: string | null }[];
  };
};

const REFRESH_MESSAGE = /refresh|rotat|renew|reconnect/i;

export async function supportTenantOverview(db: Database, tenantId: string, now = new Date()): Promise<SupportTenantOverview | null> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) return null;
  const installs = await db.select().from(installations).where(eq(installations.tenantId, tenantId)).orderBy(desc(installations.installedAt));
  const conns = await db.select().from(connections).where(eq(connections.tenantId, tenantId)).orderBy(desc(connections.createdAt));
  const authRows = await db
    .select({ at: actionLog.at, message: actionLog.message })
    .from(actionLog)
    .where(and(eq(actionLog.tenantId, tenantId), eq(actionLog.category, "auth")))
    .orderBy(desc(actionLog.at), desc(actionLog.id))
    .limit(50);
  const lastRefresh = authRows.find((r) => REFRESH_MESSAGE.test(r.message)) ?? null;
  const [synced] = await db.select({ at: max(syncTasks.syncedAt) }).from(syncTasks).where(and(eq(syncTasks.tenantId, tenantId), isNotNull(syncTasks.syncedAt)));
  const connectionsOut: SupportConnection[] = [];
  for (const c of conns) {
    const [batch] = await db.select({ at: max(syncBatches.finishedAt) }).from(syncBatches).where(eq(syncBatches.connectionId, c.id));
    const lastSync = [synced?.at, batch?.at].filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    let rateBudget: SupportConnection["rateBudget"] = null;
    if (c.businessId) {
      const [budget] = await db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, sageBudgetKey(c.target, c.businessId)));
      if (budget) rateBudget = { used: budget.starts.filter((s) => s > now.getTime() - budget.periodMs).length, limit: budget.limit, periodMs: budget.periodMs };
    }
    connectionsOut.push({
      id: c.id,
      name: c.name,
      target: c.target,
      status: c.status,
      businessName: c.businessName,
      businessId: c.businessId,
      tokensIssuedAt: c.tokensIssuedAt,
      tokenAgeSeconds: c.tokensIssuedAt ? Math.round((now.getTime() - c.tokensIssuedAt.getTime()) / 1000) : null,
      accessTokenExpiresAt: c.accessTokenExpiresAt,
      refreshTokenExpiresAt: c.refreshTokenExpiresAt,
      lastRefresh,
      lastSyncAt: lastSync,
      rateBudget,
      lastError: c.lastError,
      createdAt: c.createdAt,
    });
  }
  const mappedProducts = await db
    .select({ mpn: marketplaceProducts.mpn, name: marketplaceProducts.name, sageItemName: productMappings.sageItemName, sageItemCode: productMappings.sageItemCode })
    .from(productMappings)
    .innerJoin(marketplaceProducts, eq(marketplaceProducts.id, productMappings.productId))
    .where(eq(productMappings.tenantId, tenantId))
    .orderBy(marketplaceProducts.mpn)
    .limit(100);
  return {
    tenant: { id: tenant.id, name: tenant.name, marketplaceAccountId: tenant.marketplaceAccountId, createdAt: tenant.createdAt },
    installations: installs.map((i) => ({ marketplaceId: i.marketplaceId, brandId: i.brandId, marketplaceInstallationId: i.marketplaceInstallationId, installedAt: i.installedAt, uninstalledAt: i.uninstalledAt, purgeAfter: i.purgeAfter })),
    connections: connectionsOut,
    taskCounts: await taskCounts(db, tenantId),
    settings: await getSettings(db, tenantId),
    mappings: { products: await productCounts(db, tenantId), customers: await customerCounts(db, tenantId), mappedProducts },
  };
}
