import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { installations, tenants } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { decryptSecret, encryptSecret } from "@/lib/crypto/envelope";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { MarketplaceApiError, MarketplaceClient } from "./client";

export function webhookUrlFor(installationId: string) {
  return `${getConfig().appUrl}/api/marketplace/events/${installationId}`;
}

/**
 * Tell the marketplace where to push this installation's events and keep the signing secret it
 * issues (encrypted). Idempotent; a failure is logged and retried later (Check Changes still works).
 */
export async function registerMarketplaceWebhooks(db: Database, installationId: string, actor: Actor, opts: { refresh?: boolean } = {}): Promise<{ ok: boolean; message?: string }> {
  const [row] = await db
    .select({ installation: installations, accountId: tenants.marketplaceAccountId })
    .from(installations)
    .innerJoin(tenants, eq(tenants.id, installations.tenantId))
    .where(eq(installations.id, installationId));
  if (!row) return { ok: false, message: "Unknown installation" };
  // Registration is idempotent at the marketplace and answers its current secret: `refresh` picks up
  // a rotated secret (after a rotation ends, deliveries would otherwise fail our signature check).
  if (row.installation.webhookSecretEncrypted && !opts.refresh) return { ok: true };
  try {
    const registration = await MarketplaceClient.for(row.installation.marketplaceId).registerInstallation({ accountId: row.accountId, webhookUrl: webhookUrlFor(installationId) });
    const current = row.installation.webhookSecretEncrypted ? decryptSecret(row.installation.webhookSecretEncrypted) : null;
    if (current === registration.webhook_secret) return { ok: true };
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
        message: current
          ? "Marketplace events secret updated: the marketplace rotated the key it signs events with"
          : "Marketplace events connected: new orders, customers and products are pushed to Sage Connector",
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
