import { getDb } from "@/db/client";
import { unmapCustomers, unmapCustomersInputSchema } from "@/lib/mapping/customers";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

export async function POST(request: Request) {
  const parsed = await parseBody(request, unmapCustomersInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => unmapCustomers(await getDb(), { tenantId: user.tenantId, customerIds: parsed.data.customerIds, actor: actorFor(user) }));
}
