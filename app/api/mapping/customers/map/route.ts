import { getDb } from "@/db/client";
import { mapCustomers, mapCustomersInputSchema } from "@/lib/mapping/customers";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

export async function POST(request: Request) {
  const parsed = await parseBody(request, mapCustomersInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => mapCustomers(await getDb(), { tenantId: user.tenantId, ...parsed.data, actor: actorFor(user) }));
}
