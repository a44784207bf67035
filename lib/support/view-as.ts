import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { tenants } from "@/db/schema";
import { issueViewAsToken } from "@/lib/auth/view-as";
import type { SessionUser } from "@/lib/auth/session-user";
import { writeActionLog, type Actor } from "@/lib/log/action-log";

/** Support acting while viewing a tenant: the Action Log says so on every row. */
export function viewAsActor(user: SessionUser): Actor {
  return { type: "support", id: user.id, label: `${user.name} <${user.email}> (support, view as)` };
}

export class ViewAsError extends Error {
  constructor(message: string, readonly status: 400 | 403 | 404) {
    super(message);
  }
}

/** Support opens a tenant's pages read only: the token for the cookie, and the tenant's Action Log says who looked. */
export async function startViewAs(db: Database, input: { user: SessionUser; tenantId: string }) {
  if (input.user.role !== "support") throw new ViewAsError("Only support staff can view a tenant's pages as the tenant.", 403);
  const [tenant] = await db.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.id, input.tenantId));
  if (!tenant) throw new ViewAsError("No such tenant.", 404);
  const { token, expiresAt } = await issueViewAsToken(input.user, tenant.id);
  await writeActionLog(db, {
    tenantId: tenant.id,
    actor: viewAsActor(input.user),
    level: "info",
    category: "support",
    message: `Support opened this account's pages read only (view as), until ${expiresAt.toISOString().slice(11, 16)} UTC.`,
    details: { expiresAt: expiresAt.toISOString() },
  });
  return { token, expiresAt, tenant };
}

export async function endViewAs(db: Database, input: { user: SessionUser; tenantId: string }) {
  await writeActionLog(db, { tenantId: input.tenantId, actor: viewAsActor(input.user), level: "info", category: "support", message: "Support closed the read-only view of this account." });
}

/**
 * A write refused because support tried it: 403 on the server, and one Action Log row — in the viewed
 * tenant's log when support was viewing one, else in the deployment's (tenant-less) support log.
 */
export async function logSupportRefusal(db: Database, input: { user: SessionUser; tenantId: string | null; attempted: string }) {
  await writeActionLog(db, {
    tenantId: input.tenantId,
    actor: viewAsActor(input.user),
    level: "warning",
    category: "support",
    message: `Refused: support tried to ${input.attempted}. Support can read this account but never change it, authorize Sage, enter a passcode or start a sync.`,
    details: { attempted: input.attempted, viewAs: input.tenantId !== null },
  });
}
