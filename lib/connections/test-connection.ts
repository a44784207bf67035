import { and, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import { refreshLapseWarning } from "./refresh-lapse";
import { connectionTarget, sageConnection, sageFiles } from "./sage-session";
import { getAccessToken } from "./tokens";

export type ConnectionTestResult = { ok: true; sageUser: string; business: string | null } | { ok: false; kind: string; message: string; reconnectRequired: boolean };

/**
 * "Test connection": ask Sage who we are and which business we write to. Refreshes the token on
 * the way if needed (through the single-flight refresh) — and always when the refresh token would
 * lapse within a week, so the dashboard's warning is answered by this button; records the outcome
 * in the Action Log.
 */
export async function testSageConnection(db: Database, input: { tenantId: string; connectionId: string; actor: Actor }): Promise<ConnectionTestResult> {
  const [row] = await db.select().from(connections).where(and(eq(connections.id, input.connectionId), eq(connections.tenantId, input.tenantId)));
  if (!row) return { ok: false, kind: "not_found", message: "That Sage connection does not exist.", reconnectRequired: false };
  const target = await connectionTarget(db, row.id);
  try {
    if (refreshLapseWarning(row.refreshTokenExpiresAt)) await getAccessToken(db, row.id, { forceRefresh: true });
    let sageUser: string;
    let businessName: string | null;
    if (target.exchange === "file_exchange") {
      // no user behind an API key: the company it was granted for, and that its files can be listed
      const files = await (await sageFiles(db, row.id, { policy: { maxAttempts: 2 } })).listFiles();
      sageUser = `the API key granted in Sage 50 (${files.length} data file${files.length === 1 ? "" : "s"} available)`;
      businessName = row.businessName;
    } else {
      const sage = sageConnection(db, row.id, { policy: { maxAttempts: 2 } });
      sageUser = (await sage.whoAmI()).name;
      businessName = row.businessId ? (await sage.getBusiness(row.businessId)).name : null;
    }
    await writeActionLog(db, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "success",
      category: "auth",
      message: `Connection test passed: signed in to Sage as ${sageUser}${businessName ? `, business ${businessName}` : ""}`,
      details: { connectionId: row.id },
    });
    return { ok: true, sageUser, business: businessName };
  } catch (e) {
    if (!(e instanceof SageError)) throw e;
    if (!e.reconnectRequired) {
      // a refusal that needs a reconnect was logged by the refresh itself
      await writeActionLog(db, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "error",
        category: "auth",
        message: `Connection test failed: ${e.message}`,
        details: { connectionId: row.id, kind: e.kind, status: e.status },
      });
    }
    return { ok: false, kind: e.kind, message: e.message, reconnectRequired: e.reconnectRequired };
  }
}
