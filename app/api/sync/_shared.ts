import { authorizeResellerAdmin } from "@/lib/auth/session";
import type { SessionUser } from "@/lib/auth/session-user";

/** Shared by the sync route handlers: only a reseller admin syncs; support staff never do it for them. */
export type Admin = SessionUser & { tenantId: string };

export const syncAdmin = () =>
  authorizeResellerAdmin({ supportRefusal: "Support staff cannot sync on a reseller's behalf: the reseller's administrator starts syncs." });

export const issues = (error: { issues: { message: string }[] }) => Response.json({ error: error.issues.map((i) => i.message).join("; ") }, { status: 400 });
