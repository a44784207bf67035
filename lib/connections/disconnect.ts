import { and, eq, ne } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { forgetAccessToken } from "./tokens";

/** What deleting a connection's Sage tokens sets (Disconnect, Uninstall): no credentials, no token times, disconnected. */
export function tokensDeleted(now: Date = new Date()) {
  return { status: "disconnected" as const, credentialsEncrypted: null, tokensIssuedAt: null, accessTokenExpiresAt: null, refreshTokenIssuedAt: null, refreshTokenExpiresAt: null, lastError: null, updatedAt: now };
}

export type DisconnectResult = { ok: true; businessName: string | null } | { ok: false; message: string };

/**
 * Disconnect: the Sage tokens are deleted here (Sage's published description offers no token
 * revocation endpoint — the reseller removes the app in Sage's own settings to revoke it there);
 * mappings, cached Sage ids, documents and the Action Log are kept; syncs pause until the reseller
 * connects again (the same connection row comes back, with all of it). One transaction with its
 * Action Log row.
 */
export async function disconnectSage(db: Database, input: { tenantId: string; actor: Actor }): Promise<DisconnectResult> {
  return db.transaction(async (tx) => {
    const [c] = await tx
      .select({ id: connections.id, name: connections.name, businessName: connections.businessName })
      .from(connections)
      .where(and(eq(connections.tenantId, input.tenantId), ne(connections.status, "disconnected")))
      .for("update");
    if (!c) return { ok: false as const, message: "There is no Sage connection to disconnect. Nothing was changed." };
    await tx
      .update(connections)
      .set(tokensDeleted())
      .where(eq(connections.id, c.id));
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "warning",
      category: "auth",
      message: `Disconnected from Sage${c.businessName ? ` (${c.businessName})` : ""}: the tokens are deleted here, syncs are paused; mappings and history are kept. To revoke the app at Sage too, remove it in Sage's settings.`,
      details: { connectionId: c.id },
    });
    forgetAccessToken(c.id);
    return { ok: true as const, businessName: c.businessName };
  });
}
