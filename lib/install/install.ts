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

/** The tenant's installation from a marketplace, if the plugin is installed. */
export async function findInstallation(db: Queryable, tenantId: string, marketplaceId?: string) {
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
    const existing = await findInstallation(tx, tenant.id, marketplace.id);
    if (existing) return { installation: existing, created: false };
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
    return { installation: installation!, created: true };
  });
  await registerMarketplaceWebhooks(db, result.installation.id, input.actor);
  return result;
}
