import { and, desc, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { actionLog, connections } from "@/db/schema";
import { findActiveConnection } from "./authorize";
import { refreshLapseWarning, type RefreshLapse } from "./refresh-lapse";

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
  /** set when Sage's sign-in lapses within a week unless refreshed (the keep-alive has not run) */
  refreshLapse: RefreshLapse | null;
  /** the newest Action Log entry about authorization (refresh, test, reconnect required) */
  lastAuthEvent: { at: string; level: string; message: string } | null;
};

/** What the dashboard (and support) may see about a connection: never the credentials. */
export async function getConnectionOverview(db: Database, tenantId: string): Promise<ConnectionOverview | null> {
  // a disconnected connection is still shown (paused, with a way to connect again), not "never connected"
  const c =
    (await findActiveConnection(db, tenantId)) ??
    (await db.select().from(connections).where(and(eq(connections.tenantId, tenantId), eq(connections.status, "disconnected"))).orderBy(desc(connections.updatedAt)).limit(1))[0];
  if (!c) return null;
  const [last] = await db
    .select({ at: actionLog.at, level: actionLog.level, message: actionLog.message })
    .from(actionLog)
    .where(and(eq(actionLog.tenantId, tenantId), eq(actionLog.category, "auth")))
    .orderBy(desc(actionLog.at), desc(actionLog.id))
    .limit(1);
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
    refreshLapse: c.status === "connected" || c.status === "refreshing" ? refreshLapseWarning(c.refreshTokenExpiresAt) : null,
    lastAuthEvent: last ? { at: last.at.toISOString(), level: last.level, message: last.message } : null,
  };
}
