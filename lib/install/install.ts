import { and, eq } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import { branches, installations, tenants } from "@/db/schema";
import { findMarketplace } from "@/lib/config";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { registerMarketplaceWebhooks } from "@/lib/marketplace/registration";

export class InstallError extends Error {
  constructor(readonly reason: "unknown_marketplace" | "wrong_account", message: string) {
    super(message);
  }
}

/** The tenant's installation from a marketplace, if the plugin is installed (not uninstalled). */
export async function findInstallation(db: Queryable, tenantId: string, marketplaceId?: string) {
  const row = await findInstallationRecord(db, tenantId, marketplaceId);
  return row && !row.uninstalledAt ? row : null;
}

/** The installation row whatever its state (installed, uninstalled and waiting for its purge, purged). */
export async function findInstallationRecord(db: Queryable, tenantId: string, marketplaceId?: string) {
  const [row] = await db
    .select()
    .from(installations)
    .where(marketplaceId ? and(eq(installations.tenantId, tenantId), eq(installations.marketplaceId, marketplaceId)) : eq(installations.tenantId, tenantId))
    .limit(1);
  return row ?? null;
}

export async function getMainBranch(db: Queryable, tenantId: string) {
  const [row] = await db.select().from(branches).where(eq(branches.tenantId, tenantId)).orderBy(branches.createdAt).limit(1);
  return row ?? null;
}

/**
 * "Install now" → Continue: record the installation (once per tenant and marketplace) and make sure
 * the tenant has a branch to connect. Idempotent: a second install returns the existing row.
 */
export async function installFromMarketplace(
  db: Database,
  input: { tenantId: string; marketplaceId: string; accountId: string; actor: Actor },
) {
  const marketplace = findMarketplace(input.marketplaceId);
  if (!marketplace) throw new InstallError("unknown_marketplace", `Unknown marketplace “${input.marketplaceId}”.`);
  const result = await db.transaction(async (tx) => {
    const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, input.tenantId));
    if (!tenant || tenant.marketplaceAccountId !== input.accountId) {
      throw new InstallError("wrong_account", `You are signed in for another reseller account than ${input.accountId}. Sign in as that account's administrator.`);
    }
    if (!(await getMainBranch(tx, tenant.id))) await tx.insert(branches).values({ tenantId: tenant.id, name: "Main branch" });
    const existing = await findInstallationRecord(tx, tenant.id, marketplace.id);
    if (existing && !existing.uninstalledAt) return { installation: existing, created: false, reinstalled: false };
    if (existing) {
      // installed again after an uninstall: the kept data comes back (or, after the purge, a fresh start)
      const [again] = await tx.update(installations).set({ uninstalledAt: null, purgeAfter: null, purgedAt: null, installedAt: new Date() }).where(eq(installations.id, existing.id)).returning();
      await writeActionLog(tx, {
        tenantId: tenant.id,
        actor: input.actor,
        level: "success",
        category: "install",
        message: existing.purgedAt
          ? `Sage Integration installed again from ${marketplace.name}; the earlier data was purged on ${existing.purgedAt.toISOString().slice(0, 10)}, so this is a fresh start. Connect Sage to continue.`
          : `Sage Integration installed again from ${marketplace.name}: mappings, tasks and history kept since the uninstall are back. Connect Sage again to resume syncing.`,
        details: { marketplaceId: marketplace.id, installationId: existing.id, reinstalled: true },
      });
      return { installation: again!, created: false, reinstalled: true };
    }
    const [installation] = await tx
      .insert(installations)
      .values({
        tenantId: tenant.id,
        marketplaceId: marketplace.id,
        brandId: marketplace.brandId,
        allowedEmbedOrigins: marketplace.origins,
      })
      .returning();
    await writeActionLog(tx, {
      tenantId: tenant.id,
      actor: input.actor,
      level: "success",
      category: "install",
      message: `Sage Integration installed from ${marketplace.name}`,
      details: { marketplaceId: marketplace.id, installationId: installation!.id },
    });
    return { installation: installation!, created: true, reinstalled: false };
  });
  // after an uninstall the marketplace is told again (it re-enables the endpoint and answers the current secret)
  await registerMarketplaceWebhooks(db, result.installation.id, input.actor, { refresh: result.reinstalled });
  return result;
}
