import { getDb } from "@/db/client";
import { autoMatchProducts, autoMatchProductsInputSchema } from "@/lib/mapping/products";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** Auto-match (MPN = item code, then name = description) over the selected or all unmapped products. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, autoMatchProductsInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => autoMatchProducts(await getDb(), { tenantId: user.tenantId, productIds: parsed.data.productIds, actor: actorFor(user) }));
}
