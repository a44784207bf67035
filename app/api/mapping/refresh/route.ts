import { getDb } from "@/db/client";
import { MARKETPLACE_REFRESH_REQUESTED } from "@/inngest/functions/mapping-marketplace-refresh";
import { SAGE_CACHE_REFRESH_REQUESTED } from "@/inngest/functions/sage-cache-refresh";
import { sendEvent } from "@/inngest/send";
import { planRefresh, refreshInputSchema } from "@/lib/mapping/requests";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../_shared";

/** "Refresh from Sage" / "Refresh from marketplace": queued to Inngest functions; poll /api/mapping/requests. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, refreshInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => {
    const requests = await planRefresh(await getDb(), { tenantId: user.tenantId, source: parsed.data.source });
    await sendEvent(
      requests.map((r) => ({
        name: r.source === "sage" ? SAGE_CACHE_REFRESH_REQUESTED : MARKETPLACE_REFRESH_REQUESTED,
        id: r.requestId,
        data: { tenantId: user.tenantId, requestId: r.requestId, actor: actorFor(user) },
      })),
    );
    return { requests };
  }, 202);
}
