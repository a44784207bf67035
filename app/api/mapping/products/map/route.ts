import { getDb } from "@/db/client";
import { mapProducts, mapProductsInputSchema } from "@/lib/mapping/products";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** Map (or bulk map) marketplace products to one cached Sage item. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, mapProductsInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => mapProducts(await getDb(), { tenantId: user.tenantId, ...parsed.data, actor: actorFor(user) }));
}
