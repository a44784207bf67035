import { getDb } from "@/db/client";
import { listFeeMappings, mapFee, mapFeeInputSchema } from "@/lib/mapping/fees";
import { actorFor, answer, badRequest, parseBody, resellerAdmin, tenantReader } from "../_shared";

/** Fees Mapping pane: each fee (the cancellation fee) and its Sage item. */
export async function GET() {
  const { access, error } = await tenantReader();
  if (error) return error;
  return Response.json({ fees: await listFeeMappings(await getDb(), access.tenantId) });
}

export async function POST(request: Request) {
  const parsed = await parseBody(request, mapFeeInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => mapFee(await getDb(), { tenantId: user.tenantId, ...parsed.data, actor: actorFor(user) }));
}
