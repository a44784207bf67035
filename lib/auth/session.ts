import { redirect } from "next/navigation";
import { auth } from "./auth";
import type { SessionUser } from "./session-user";

export async function getSessionUser(): Promise<SessionUser | null> {
  const session = await auth();
  return ((session as { user?: SessionUser } | null)?.user ?? null) as SessionUser | null;
}

/** Pages: the signed-in user, or a redirect to the login page that comes back here. */
export async function requireUser(returnTo: string): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect(`/login?callbackUrl=${encodeURIComponent(returnTo)}`);
  return user;
}

/** Pages that act for a reseller: a reseller admin with a tenant. */
export async function requireResellerAdmin(returnTo: string): Promise<SessionUser & { tenantId: string }> {
  const user = await requireUser(returnTo);
  if (user.role !== "reseller_admin" || !user.tenantId) redirect("/forbidden");
  return user as SessionUser & { tenantId: string };
}
