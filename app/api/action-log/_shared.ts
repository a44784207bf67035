import { currentViewAs, getSessionUser } from "@/lib/auth/session";
import { actionLogScopeFor, type ActionLogScope } from "@/lib/log/action-log-query";

/**
 * Who reads which Action Log: a reseller admin their own tenant's; support any tenant's (`?tenant=`,
 * else the tenant they are viewing as, else every tenant's). 401 nobody signed in; 403 other roles.
 */
export async function authorizeActionLogRead(tenantParam: string | undefined): Promise<{ scope: ActionLogScope; error?: undefined } | { scope?: undefined; error: Response }> {
  const user = await getSessionUser();
  if (!user) return { error: Response.json({ error: "Sign in to read the Action Log." }, { status: 401 }) };
  const tenantId = user.role === "support" ? (tenantParam ?? (await currentViewAs(user))?.tenantId) : undefined;
  const scope = actionLogScopeFor(user, { tenantId });
  if (!scope) return { error: Response.json({ error: "Only a reseller administrator or support staff can read the Action Log." }, { status: 403 }) };
  return { scope };
}
