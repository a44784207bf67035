import { getDb } from "@/db/client";
import { marketplaceRefreshRequested, sageCacheRefreshRequested } from "@/inngest/events";
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
      requests.map((r) =>
        r.source === "sage" && r.connectionId
          ? sageCacheRefreshRequested.create({ tenantId: user.tenantId, connectionId: r.connectionId, requestId: r.requestId, actor: actorFor(user) }, { id: r.requestId })
          : marketplaceRefreshRequested.create({ tenantId: user.tenantId, requestId: r.requestId, actor: actorFor(user) }, { id: r.requestId }),
      ),
    );
    return { requests };
  }, 202);
}
