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

export type ResellerAdmin = SessionUser & { tenantId: string };

/**
 * Route handlers that act for a reseller: the signed-in reseller admin, or the answer to give —
 * 401 when nobody is signed in, 403 when someone is but may not do this (support staff never act
 * for a reseller; only the reseller's administrator does).
 */
export async function authorizeResellerAdmin(opts: { supportRefusal?: string } = {}): Promise<{ user: ResellerAdmin; error?: undefined } | { user?: undefined; error: Response }> {
  const user = await getSessionUser();
  if (!user) return { error: Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 }) };
  if (user.role !== "reseller_admin" || !user.tenantId) {
    const message =
      user.role === "support"
        ? (opts.supportRefusal ?? "Support staff cannot do this on a reseller's behalf: the reseller's administrator must.")
        : "Only a reseller administrator can do this.";
    return { error: Response.json({ error: message }, { status: 403 }) };
  }
  return { user: user as ResellerAdmin };
}

/** Pages for support staff / the deployment's operator (set-up once per deployment, the support console). */
export async function requireSupport(returnTo: string): Promise<SessionUser> {
  const user = await requireUser(returnTo);
  if (user.role !== "support") redirect("/forbidden");
  return user;
}
