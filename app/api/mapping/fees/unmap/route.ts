import { getDb } from "@/db/client";
import { unmapFee, unmapFeeInputSchema } from "@/lib/mapping/fees";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

export async function POST(request: Request) {
  const parsed = await parseBody(request, unmapFeeInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => unmapFee(await getDb(), { tenantId: user.tenantId, feeKind: parsed.data.feeKind, actor: actorFor(user) }));
}
