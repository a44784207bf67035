import { getDb } from "@/db/client";
import { autoMatchCustomers, autoMatchCustomersInputSchema } from "@/lib/mapping/customers";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** Auto-match (stored id, e-mail, reference, name) over the selected or all customers. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, autoMatchCustomersInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => autoMatchCustomers(await getDb(), { tenantId: user.tenantId, customerIds: parsed.data.customerIds, actor: actorFor(user) }));
}
