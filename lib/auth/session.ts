import { eq } from "drizzle-orm";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { tenants } from "@/db/schema";
import { logSupportRefusal } from "@/lib/support/view-as";
import { auth } from "./auth";
import type { SessionUser } from "./session-user";
import { readViewAsCookie } from "./view-as";

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

/** Support viewing one tenant's pages read only (lib/auth/view-as.ts). */
export type ViewAs = { tenantId: string; tenantName: string; expiresAt: Date };

/** Whose tenant a page or read route shows: the reseller admin's own, or the one support is viewing. */
export type TenantAccess = { user: SessionUser; tenantId: string; viewAs: ViewAs | null };

/** The tenant a signed-in support user is viewing (view as), if any. */
export async function currentViewAs(user: SessionUser | null): Promise<ViewAs | null> {
  if (!user || user.role !== "support") return null;
  const grant = await readViewAsCookie(user);
  if (!grant) return null;
  const [tenant] = await (await getDb()).select({ name: tenants.name }).from(tenants).where(eq(tenants.id, grant.tenantId));
  return tenant ? { tenantId: grant.tenantId, tenantName: tenant.name, expiresAt: grant.expiresAt } : null;
}

async function tenantAccessOf(user: SessionUser): Promise<TenantAccess | null> {
  if (user.role === "reseller_admin" && user.tenantId) return { user, tenantId: user.tenantId, viewAs: null };
  const viewAs = await currentViewAs(user);
  return viewAs ? { user, tenantId: viewAs.tenantId, viewAs } : null;
}

/**
 * Pages that show a tenant's data (Dashboard, Tasks, Mapping, Settings, Action Log): the reseller
 * admin, or support viewing that tenant read only. Support without a view goes to the console.
 */
export async function requireTenantReader(returnTo: string): Promise<TenantAccess> {
  const user = await requireUser(returnTo);
  const access = await tenantAccessOf(user);
  if (access) return access;
  redirect(user.role === "support" ? "/support" : "/forbidden");
}

/** Route handlers that only read a tenant's data: 401 nobody signed in; 403 support without a view, other roles. */
export async function authorizeTenantRead(): Promise<{ access: TenantAccess; error?: undefined } | { access?: undefined; error: Response }> {
  const user = await getSessionUser();
  if (!user) return { error: Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 }) };
  const access = await tenantAccessOf(user);
  if (access) return { access };
  const message = user.role === "support" ? "Support staff read a tenant's data through the support console (view as)." : "Only a reseller administrator can do this.";
  return { error: Response.json({ error: message }, { status: 403 }) };
}

/** What this request is, as proxy.ts stamps it ("POST /api/tasks/ignore"), for the refusal's log row. */
async function requestLabel(): Promise<string> {
  try {
    return (await headers()).get("x-sc-request") ?? "make a change";
  } catch {
    return "make a change";
  }
}

/** Support tried a reseller's write: refused (the caller answers 403) and logged as a support action. */
async function refuseSupport(user: SessionUser, attempted: string): Promise<{ readOnlyMessage: string | null }> {
  const viewAs = await currentViewAs(user);
  await logSupportRefusal(await getDb(), { user, tenantId: viewAs?.tenantId ?? null, attempted });
  return {
    readOnlyMessage: viewAs ? `Read only: you are viewing ${viewAs.tenantName} as support. Changes are refused, and this attempt was recorded in the tenant's Action Log.` : null,
  };
}

/**
 * A support user's write refused outside the usual guards (a route authenticated by something other
 * than the session, e.g. the consent popup's ticket): logged like every support refusal ("call POST
 * /api/…"); the message
 * to answer — the read-only notice while viewing a tenant, else `fallback`.
 */
export async function supportWriteRefusal(user: SessionUser, fallback: string): Promise<string> {
  return (await refuseSupport(user, `call ${await requestLabel()}`)).readOnlyMessage ?? fallback;
}

/**
 * Route handlers that act for a reseller: the signed-in reseller admin, or the answer to give —
 * 401 when nobody is signed in, 403 when someone is but may not do this (support staff never act
 * for a reseller, also not while viewing as the reseller; each such attempt is logged).
 */
export async function authorizeResellerAdmin(opts: { supportRefusal?: string } = {}): Promise<{ user: ResellerAdmin; error?: undefined } | { user?: undefined; error: Response }> {
  const user = await getSessionUser();
  if (!user) return { error: Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 }) };
  if (user.role !== "reseller_admin" || !user.tenantId) {
    if (user.role === "support") {
      const { readOnlyMessage } = await refuseSupport(user, `call ${await requestLabel()}`);
      const message = readOnlyMessage ?? opts.supportRefusal ?? "Support staff cannot do this on a reseller's behalf: the reseller's administrator must.";
      return { error: Response.json({ error: message }, { status: 403 }) };
    }
    return { error: Response.json({ error: "Only a reseller administrator can do this." }, { status: 403 }) };
  }
  return { user: user as ResellerAdmin };
}

/**
 * Server actions that act for a reseller: the reseller admin, or the error to show. Support (viewing
 * as or not) is refused and the attempt logged; `attempted` says what was tried ("save the settings").
 * Nobody signed in: back to the login page (`loginReturnTo`), or the error.
 */
export async function authorizeResellerAction(
  attempted: string,
  opts: { refusal?: string; loginReturnTo?: string } = {},
): Promise<{ user: ResellerAdmin; error?: undefined } | { user?: undefined; error: string }> {
  const user = await getSessionUser();
  if (!user) {
    if (opts.loginReturnTo) redirect(`/login?callbackUrl=${encodeURIComponent(opts.loginReturnTo)}`);
    return { error: "Your session has ended: sign in again." };
  }
  if (user.role === "reseller_admin" && user.tenantId) return { user: user as ResellerAdmin };
  const fallback = opts.refusal ?? "Only a reseller administrator can do this.";
  if (user.role === "support") return { error: (await refuseSupport(user, attempted)).readOnlyMessage ?? fallback };
  return { error: fallback };
}

/** Pages for support staff / the deployment's operator (set-up once per deployment, the support console). */
export async function requireSupport(returnTo: string): Promise<SessionUser> {
  const user = await requireUser(returnTo);
  if (user.role !== "support") redirect("/forbidden");
  return user;
}
