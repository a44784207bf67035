import type { Database } from "@/db/client";
import { findActiveConnection } from "./authorize";

export type ConnectionOverview = {
  id: string;
  name: string;
  target: string;
  status: "connected" | "refreshing" | "reconnect_required" | "disconnected";
  country: string;
  businessName: string | null;
  needsBusiness: boolean;
  tokensIssuedAt: string | null;
  tokenAgeSeconds: number | null;
  accessTokenExpiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastError: string | null;
};

/** What the dashboard (and support) may see about a connection: never the credentials. */
export async function getConnectionOverview(db: Database, tenantId: string): Promise<ConnectionOverview | null> {
  const c = await findActiveConnection(db, tenantId);
  if (!c) return null;
  return {
    id: c.id,
    name: c.name,
    target: c.target,
    status: c.status,
    country: c.country,
    businessName: c.businessName,
    needsBusiness: !c.businessId,
    tokensIssuedAt: c.tokensIssuedAt?.toISOString() ?? null,
    tokenAgeSeconds: c.tokensIssuedAt ? Math.round((Date.now() - c.tokensIssuedAt.getTime()) / 1000) : null,
    accessTokenExpiresAt: c.accessTokenExpiresAt?.toISOString() ?? null,
    refreshTokenExpiresAt: c.refreshTokenExpiresAt?.toISOString() ?? null,
    lastError: c.lastError,
  };
}
