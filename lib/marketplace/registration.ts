import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { installations, tenants } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { encryptSecret } from "@/lib/crypto/envelope";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { MarketplaceApiError, MarketplaceClient } from "./client";

export function webhookUrlFor(installationId: string) {
  return `${getConfig().appUrl}/api/marketplace/events/${installationId}`;
}

/**
 * Tell the marketplace where to push this installation's events and keep the signing secret it
 * issues (encrypted). Idempotent; a failure is logged and retried later (Check Changes still works).
 */
export async function registerMarketplaceWebhooks(db: Database, installationId: string, actor: Actor): Promise<{ ok: boolean; message?: string }> {
  const [row] = await db
    .select({ installation: installations, accountId: tenants.marketplaceAccountId })
    .from(installations)
    .innerJoin(tenants, eq(tenants.id, installations.tenantId))
    .where(eq(installations.id, installationId));
  if (!row) return { ok: false, message: "Unknown installation" };
  if (row.installation.webhookSecretEncrypted) return { ok: true };
  try {
    const registration = await MarketplaceClient.for(row.installation.marketplaceId).registerInstallation({ accountId: row.accountId, webhookUrl: webhookUrlFor(installationId) });
    await db.transaction(async (tx) => {
      await tx
        .update(installations)
        .set({ webhookSecretEncrypted: encryptSecret(registration.webhook_secret), marketplaceInstallationId: registration.id })
        .where(eq(installations.id, installationId));
      await writeActionLog(tx, {
        tenantId: row.installation.tenantId,
        actor,
        level: "success",
        category: "install",
        message: "Marketplace events connected: new orders, customers and products are pushed to Sage Connector",
        details: { marketplaceInstallationId: registration.id },
      });
    });
    return { ok: true };
  } catch (e) {
    if (!(e instanceof MarketplaceApiError) && !(e instanceof Error && e.name === "ZodError")) throw e;
    const message = `Marketplace events are not connected yet (${e.message}). Orders still arrive with Check Changes; the connection is retried automatically.`;
    await writeActionLog(db, { tenantId: row.installation.tenantId, actor, level: "warning", category: "install", message });
    return { ok: false, message };
  }
}
