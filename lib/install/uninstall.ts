import { and, eq, isNotNull, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import {
  actionLog,
  connections,
  customerMappings,
  feeMappings,
  inboxEvents,
  installations,
  marketplaceCustomers,
  marketplaceProducts,
  oauthStates,
  orderWatermarks,
  productMappings,
  resyncReviews,
  sageContacts,
  sageDocuments,
  sageItems,
  syncBatches,
  syncTasks,
  tenantSettings,
} from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { tokensDeleted } from "@/lib/connections/disconnect";
import { forgetAccessToken } from "@/lib/connections/tokens";

const DAY_MS = 24 * 3600 * 1000;

const day = (d: Date) => d.toISOString().slice(0, 10);

export type UninstallResult = { uninstalled: boolean; purgeAfter: Date | null; connectionsClosed: number };

/**
 * The marketplace's `installation.uninstalled` event, applied in the inbox transaction: every Sage
 * connection of the tenant has its tokens deleted (status `disconnected`, so nothing syncs), the
 * installation is marked uninstalled with the date its data will be purged (`retentionDays` on),
 * and the Action Log says so. Mappings, tasks, documents and the log are kept until then; installing
 * again before that date picks up where the reseller left off. A repeat is a no-op.
 */
export async function uninstallInstallation(
  tx: Queryable,
  input: { installationId: string; actor: Actor; retentionDays: number; now?: Date },
): Promise<UninstallResult> {
  const now = input.now ?? new Date();
  const [inst] = await tx.select().from(installations).where(eq(installations.id, input.installationId)).for("update");
  if (!inst || inst.uninstalledAt) return { uninstalled: false, purgeAfter: inst?.purgeAfter ?? null, connectionsClosed: 0 };
  const purgeAfter = new Date(now.getTime() + input.retentionDays * DAY_MS);
  await tx.update(installations).set({ uninstalledAt: now, purgeAfter, purgedAt: null }).where(eq(installations.id, inst.id));
  // every connection still connected, or still holding tokens, loses them
  const closed = await tx
    .update(connections)
    .set(tokensDeleted(now))
    .where(and(eq(connections.tenantId, inst.tenantId), or(ne(connections.status, "disconnected"), isNotNull(connections.credentialsEncrypted))))
    .returning({ id: connections.id });
  for (const c of closed) forgetAccessToken(c.id);
  await writeActionLog(tx, {
    tenantId: inst.tenantId,
    actor: input.actor,
    level: "warning",
    category: "install",
    message:
      `Sage Integration was uninstalled in the marketplace: the Sage tokens are deleted and nothing is synced. ` +
      `Mappings, tasks and this log are kept until ${day(purgeAfter)} (${input.retentionDays} days) and then deleted; install again before then to carry on where you left off.`,
    details: { installationId: inst.id, purgeAfter: purgeAfter.toISOString(), retentionDays: input.retentionDays, connectionsClosed: closed.length },
  });
  return { uninstalled: true, purgeAfter, connectionsClosed: closed.length };
}

/** Installations whose retention has run out and whose data is not purged yet (a page at a time). */
export async function listInstallationsDueForPurge(db: Database, now: Date = new Date(), limit = 100) {
  return db
    .select({ id: installations.id, tenantId: installations.tenantId })
    .from(installations)
    .where(and(isNotNull(installations.uninstalledAt), isNull(installations.purgedAt), lte(installations.purgeAfter, now)))
    .orderBy(installations.purgeAfter)
    .limit(limit);
}

/**
 * The tenant's tables in the order their rows can be deleted (children before parents). Kept: the
 * tenant, its branches and users (people sign in through the marketplace) and the installation row,
 * which records the purge.
 */
const PURGE_ORDER = [
  resyncReviews, // its customer rows cascade
  sageDocuments,
  syncBatches, // its batch-task rows cascade
  syncTasks,
  sageItems,
  sageContacts,
  customerMappings,
  productMappings,
  feeMappings,
  marketplaceCustomers,
  marketplaceProducts,
  inboxEvents,
  orderWatermarks,
  oauthStates,
  tenantSettings,
  connections,
  actionLog,
] as const;

export type PurgeChunkResult =
  | { done: false; deleted: number }
  | { done: true; deleted: number; purged: boolean; reason?: "not_due" | "reinstalled" | "already_purged" | "unknown" };

/**
 * One bounded slice of a purge (`limit` rows at most, one transaction): deletes the next rows of
 * the tenant's data in PURGE_ORDER. When nothing is left, the installation is marked purged and one
 * Action Log row says what was deleted (`deletedBefore` carries the count of the earlier slices).
 * Checked again in every slice: an installation installed again in the meantime is left alone.
 */
export async function purgeTenantDataChunk(
  db: Database,
  input: { installationId: string; limit?: number; deletedBefore?: number; now?: Date },
): Promise<PurgeChunkResult> {
  const limit = input.limit ?? 5000;
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const [inst] = await tx.select().from(installations).where(eq(installations.id, input.installationId)).for("update");
    if (!inst) return { done: true, deleted: 0, purged: false, reason: "unknown" as const };
    if (inst.purgedAt) return { done: true, deleted: 0, purged: false, reason: "already_purged" as const };
    if (!inst.uninstalledAt) return { done: true, deleted: 0, purged: false, reason: "reinstalled" as const };
    if (!inst.purgeAfter || inst.purgeAfter > now) return { done: true, deleted: 0, purged: false, reason: "not_due" as const };
    let deleted = 0;
    for (const table of PURGE_ORDER) {
      const remaining = limit - deleted;
      const tenantCol = (table as unknown as { tenantId: typeof syncTasks.tenantId }).tenantId;
      // ctid slices: a bounded DELETE on PostgreSQL and PGlite alike (DELETE has no LIMIT)
      const res = await tx.execute(
        sql`delete from ${table} where ctid in (select ctid from ${table} where ${tenantCol} = ${inst.tenantId} limit ${remaining})`,
      );
      const count = Number((res as { rowCount?: number; affectedRows?: number }).rowCount ?? (res as { affectedRows?: number }).affectedRows ?? 0);
      deleted += count;
      // fewer than asked for: this table is empty now; as many: there may be more, next slice
      if (count >= remaining) return { done: false as const, deleted };
    }
    await tx.update(installations).set({ purgedAt: now }).where(eq(installations.id, inst.id));
    const total = (input.deletedBefore ?? 0) + deleted;
    await writeActionLog(tx, {
      tenantId: inst.tenantId,
      actor: { type: "system", label: "Data retention" },
      level: "info",
      category: "install",
      message: `Data of the uninstalled Sage Integration purged: the retention ended on ${day(inst.purgeAfter)}; ${total.toLocaleString("en-GB")} rows deleted (mappings, tasks, documents, Sage tokens and ids, settings and the earlier Action Log). Installing again starts afresh.`,
      details: { installationId: inst.id, rowsDeleted: total, uninstalledAt: inst.uninstalledAt.toISOString() },
    });
    return { done: true as const, deleted, purged: true };
  });
}
