import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections, type Connection } from "@/db/schema";
import { writeActionLog, SYSTEM_ACTOR } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import { getSageTarget } from "@/lib/sage/targets";
import { readyApplication } from "./application-secret";
import { openCredentials, sealCredentials } from "./credentials";

/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_MS = 60_000;

export type UsableAccessToken = { accessToken: string; businessId: string | null; connectionId: string };

/** In-process single flight: concurrent callers on one connection share one refresh. */
const inflight = new Map<string, Promise<UsableAccessToken>>();

/**
 * Decrypted access tokens kept in memory until shortly before they expire, so a sync does not read
 * and decrypt the whole connection row on every Sage call. The database stays the source of truth:
 * every use re-reads the connection's status and business (a change of business or a disconnect on
 * any instance takes effect at the next call), and a 401 (`rejectedToken`) or a refresh bypasses and
 * replaces the cached token.
 */
const memory = new Map<string, { token: UsableAccessToken; expiresAt: number }>();

function remember(token: UsableAccessToken, expiresAt: Date | null | undefined) {
  if (expiresAt) memory.set(token.connectionId, { token, expiresAt: expiresAt.getTime() });
}

/** Forget a cached token (the connection changed: reconnect, business change, disconnect). */
export function forgetAccessToken(connectionId: string) {
  memory.delete(connectionId);
}

function usable(row: Connection, now: number): UsableAccessToken | null {
  const creds = openCredentials(row.credentialsEncrypted);
  if (!creds || !row.accessTokenExpiresAt) return null;
  if (row.accessTokenExpiresAt.getTime() - REFRESH_MARGIN_MS <= now) return null;
  return { accessToken: creds.accessToken, businessId: row.businessId, connectionId: row.id };
}

function assertActive(row: Connection | undefined, connectionId: string): asserts row is Connection {
  if (!row) throw new SageError("not_found", `Connection ${connectionId} does not exist`);
  if (row.status === "reconnect_required" || row.status === "disconnected") {
    throw new SageError("auth", "The Sage connection needs to be reconnected by the reseller", { reconnectRequired: true });
  }
}

/**
 * A valid access token for the connection, refreshing it when it is about to expire.
 * `rejectedToken`: the token Sage just answered 401 to — refresh unless someone already has.
 */
export async function getAccessToken(
  db: Database,
  connectionId: string,
  opts: { rejectedToken?: string; forceRefresh?: boolean } = {},
): Promise<UsableAccessToken> {
  if (!opts.rejectedToken && !opts.forceRefresh) {
    const cached = memory.get(connectionId);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) {
      // the cache saves the decrypt, never the check: another instance (or a transaction that had not
      // committed when this one cached) may have changed the business or disconnected — one PK read
      const [now] = await db.select({ status: connections.status, businessId: connections.businessId }).from(connections).where(eq(connections.id, connectionId));
      if (now && now.businessId === cached.token.businessId && (now.status === "connected" || now.status === "refreshing")) return cached.token;
      memory.delete(connectionId);
    }
    const [row] = await db.select().from(connections).where(eq(connections.id, connectionId));
    assertActive(row, connectionId);
    const token = usable(row, Date.now());
    if (token) {
      remember(token, row.accessTokenExpiresAt);
      return token;
    }
  }
  memory.delete(connectionId);
  const running = inflight.get(connectionId);
  if (running) {
    const token = await running;
    if (!opts.rejectedToken || token.accessToken !== opts.rejectedToken) return token;
  }
  const refresh = refreshUnderRowLock(db, connectionId, opts)
    .then((token) => {
      remember(token.token, token.expiresAt);
      return token.token;
    })
    .finally(() => inflight.delete(connectionId));
  inflight.set(connectionId, refresh);
  return refresh;
}

type LockedOutcome = { kind: "token"; token: UsableAccessToken; expiresAt: Date | null } | { kind: "reconnect"; error: SageError };

/**
 * One refresh at a time per connection across processes: the row is locked (SELECT … FOR UPDATE)
 * for the whole exchange, and the rotated refresh token is saved in the same transaction before
 * anyone uses the new access token. A rejected grant turns the connection `reconnect_required`.
 */
async function refreshUnderRowLock(
  db: Database,
  connectionId: string,
  opts: { rejectedToken?: string; forceRefresh?: boolean },
): Promise<{ token: UsableAccessToken; expiresAt: Date | null }> {
  const outcome = await db.transaction(async (tx): Promise<LockedOutcome> => {
    const [row] = await tx.select().from(connections).where(eq(connections.id, connectionId)).for("update");
    assertActive(row, connectionId);
    const creds = openCredentials(row.credentialsEncrypted);
    if (!creds) throw new SageError("auth", "The Sage connection holds no credentials", { reconnectRequired: true });

    // Someone refreshed while we waited for the lock?
    const current = usable(row, Date.now());
    if (current && !opts.forceRefresh && (!opts.rejectedToken || current.accessToken !== opts.rejectedToken)) {
      return { kind: "token", token: current, expiresAt: row.accessTokenExpiresAt };
    }

    const target = getSageTarget(row.target);
    const rotation = target.credentialsKind === "api_key";
    try {
      // an API key is rotated with the application's secret (file exchange); a refresh token is exchanged
      const context = rotation ? { application: (await readyApplication(tx, target.id)) ?? undefined } : undefined;
      const tokens = await target.refreshTokens(creds.refreshToken, context);
      const now = new Date();
      await tx
        .update(connections)
        .set({
          credentialsEncrypted: sealCredentials({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }),
          tokensIssuedAt: now,
          accessTokenExpiresAt: new Date(now.getTime() + tokens.expiresIn * 1000),
          refreshTokenIssuedAt: now,
          refreshTokenExpiresAt: new Date(now.getTime() + tokens.refreshTokenExpiresIn * 1000),
          status: "connected",
          lastError: null,
          updatedAt: now,
        })
        .where(eq(connections.id, connectionId));
      await writeActionLog(tx, {
        tenantId: row.tenantId,
        actor: SYSTEM_ACTOR,
        level: "info",
        category: "auth",
        message: rotation ? `${target.label} API key rotated for “${row.name}”; the new key was saved before use` : `Sage access token refreshed for “${row.name}”`,
        details: { connectionId, expiresInSeconds: tokens.expiresIn, reason: opts.rejectedToken ? "rejected by Sage (401)" : opts.forceRefresh ? "keep-alive" : "about to expire" },
      });
      return { kind: "token", token: { accessToken: tokens.accessToken, businessId: row.businessId, connectionId }, expiresAt: new Date(now.getTime() + tokens.expiresIn * 1000) };
    } catch (e) {
      if (e instanceof SageError && e.reconnectRequired) {
        await tx
          .update(connections)
          .set({ status: "reconnect_required", lastError: e.message, updatedAt: new Date() })
          .where(eq(connections.id, connectionId));
        await writeActionLog(tx, {
          tenantId: row.tenantId,
          actor: SYSTEM_ACTOR,
          level: "error",
          category: "auth",
          message: rotation
            ? `${target.label} refused to rotate the API key of “${row.name}”. Reconnect required: open the dashboard and click Reconnect to enter a new passcode.`
            : `Sage refused to refresh the connection “${row.name}”. Reconnect required: open the dashboard and click Reconnect.`,
          details: { connectionId, sageError: e.message },
        });
        return { kind: "reconnect", error: e };
      }
      throw e;
    }
  });
  if (outcome.kind === "reconnect") throw outcome.error;
  return { token: outcome.token, expiresAt: outcome.expiresAt };
}

/** Connections with a refresh token issued before `olderThan` (keep-alive candidates). */
/** Connected connections whose refresh token is older than `olderThan`, by id (a page after `afterId` when given). */
export async function connectionsWithRefreshTokenOlderThan(db: Database, olderThan: Date, page: { afterId?: string; limit?: number } = {}) {
  return db
    .select({ id: connections.id, tenantId: connections.tenantId })
    .from(connections)
    .where(sql`${connections.status} = 'connected' and ${connections.refreshTokenIssuedAt} < ${olderThan.toISOString()}${page.afterId ? sql` and ${connections.id} > ${page.afterId}::uuid` : sql``}`)
    .orderBy(connections.id)
    .limit(page.limit ?? 1_000_000);
}
