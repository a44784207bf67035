import { getDb } from "@/db/client";
import { resyncReviewConfirmed } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { confirmResyncReview, ResyncReviewError } from "@/lib/sync/resync-guard";

/**
 * "Create the N missing contacts and sync" (no body): only the reseller's administrator — support
 * is refused (403) and nothing changes. 202 {reviewId, toCreate}; 404 no review; 409 not awaiting confirmation.
 */
export async function POST() {
  const auth = await authorizeResellerAdmin({ supportRefusal: "Support staff cannot confirm a re-sync for a reseller: the reseller's administrator must." });
  if (auth.error) return auth.error;
  const actor = actorFor(auth.user);
  try {
    const confirmed = await confirmResyncReview(await getDb(), { tenantId: auth.user.tenantId, actor });
    await sendEvent(resyncReviewConfirmed.create({ tenantId: auth.user.tenantId, connectionId: confirmed.connectionId, reviewId: confirmed.reviewId, actor }, { id: `resync-review-confirmed-${confirmed.reviewId}` }));
    return Response.json({ reviewId: confirmed.reviewId, toCreate: confirmed.toCreate }, { status: 202 });
  } catch (e) {
    if (e instanceof ResyncReviewError) return Response.json({ error: e.message }, { status: e.status });
    throw e;
  }
}
