import { getSessionUser } from "@/lib/auth/session";
import type { SessionUser } from "@/lib/auth/session-user";

/** Shared by the sync route handlers: only a reseller admin syncs; support staff never do it for them. */
export type Admin = SessionUser & { tenantId: string };

export async function syncAdmin(): Promise<{ user: Admin } | { error: Response }> {
  const user = await getSessionUser();
  if (user?.role === "support") {
    return { error: Response.json({ error: "Support staff cannot sync on a reseller's behalf: the reseller's administrator starts syncs." }, { status: 403 }) };
  }
  if (!user?.tenantId || user.role !== "reseller_admin") return { error: Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 }) };
  return { user: user as Admin };
}

export const issues = (error: { issues: { message: string }[] }) => Response.json({ error: error.issues.map((i) => i.message).join("; ") }, { status: 400 });
