import { getDb } from "@/db/client";
import { listFeeMappings, mapFee, mapFeeInputSchema } from "@/lib/mapping/fees";
import { actorFor, answer, badRequest, parseBody, resellerAdmin, unauthorized } from "../_shared";

/** Fees Mapping pane: each fee (the cancellation fee) and its Sage item. */
export async function GET() {
  const user = await resellerAdmin();
  if (!user) return unauthorized();
  return Response.json({ fees: await listFeeMappings(await getDb(), user.tenantId) });
}

export async function POST(request: Request) {
  const parsed = await parseBody(request, mapFeeInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const user = await resellerAdmin();
  if (!user) return unauthorized();
  return answer(async () => mapFee(await getDb(), { tenantId: user.tenantId, ...parsed.data, actor: actorFor(user) }));
}
