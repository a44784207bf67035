import { getDb } from "@/db/client";
import { autoSyncInputSchema, setCustomerAutoSync } from "@/lib/mapping/customers";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** The per-customer auto-sync toggle. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, autoSyncInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => setCustomerAutoSync(await getDb(), { tenantId: user.tenantId, ...parsed.data, actor: actorFor(user) }));
}
