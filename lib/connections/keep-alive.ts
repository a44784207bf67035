import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections, type ConnectionStatus } from "@/db/schema";
import { SageError } from "@/lib/sage/errors";
import { connectionsWithRefreshTokenOlderThan, getAccessToken } from "./tokens";

const DAY_MS = 24 * 3600 * 1000;

/** Sage refresh tokens die after 31 days unused: refresh those older than `maxAgeDays`. */
export function listConnectionsDueForKeepAlive(db: Database, now: Date = new Date(), maxAgeDays = 20, page: { afterId?: string; limit?: number } = {}) {
  return connectionsWithRefreshTokenOlderThan(db, new Date(now.getTime() - maxAgeDays * DAY_MS), page);
}

export async function keepConnectionAlive(db: Database, connectionId: string): Promise<{ refreshed: boolean; status: ConnectionStatus }> {
  try {
    await getAccessToken(db, connectionId, { forceRefresh: true });
    return { refreshed: true, status: "connected" };
  } catch (e) {
    if (e instanceof SageError && e.reconnectRequired) {
      const [row] = await db.select({ status: connections.status }).from(connections).where(eq(connections.id, connectionId));
      return { refreshed: false, status: row?.status ?? "reconnect_required" };
    }
    throw e;
  }
}
