import { getDb } from "@/db/client";
import { authorizeTenantRead } from "@/lib/auth/session";
import { getResyncReview } from "@/lib/sync/resync-guard";

/**
 * The tenant's latest re-sync review (progress while checking, then the summary): a read, changes
 * nothing — the reseller admin, or support viewing the tenant. `{ review: null }` when there is none.
 */
export async function GET() {
  const { access, error } = await authorizeTenantRead();
  if (error) return error;
  return Response.json({ review: await getResyncReview(await getDb(), access.tenantId) });
}
