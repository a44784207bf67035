import { getDb } from "@/db/client";
import { unmapProducts, unmapProductsInputSchema } from "@/lib/mapping/products";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

export async function POST(request: Request) {
  const parsed = await parseBody(request, unmapProductsInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => unmapProducts(await getDb(), { tenantId: user.tenantId, productIds: parsed.data.productIds, actor: actorFor(user) }));
}
