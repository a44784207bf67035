import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { getResyncReview } from "@/lib/sync/resync-guard";

/** The tenant's latest re-sync review (progress while checking, then the summary): a read, changes nothing. `{ review: null }` when there is none. */
export async function GET() {
  const auth = await authorizeResellerAdmin({ supportRefusal: "Support staff see a tenant's re-sync review on the support console." });
  if (auth.error) return auth.error;
  return Response.json({ review: await getResyncReview(await getDb(), auth.user.tenantId) });
}
