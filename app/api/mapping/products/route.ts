import { getDb } from "@/db/client";
import { listProducts, productListQuerySchema } from "@/lib/mapping/products";
import { badRequest, parseQuery, resellerAdmin, tenantReader } from "../_shared";

/** Products tab: server-side search, "show only unmapped" and paging. */
export async function GET(request: Request) {
  const parsed = parseQuery(request, productListQuerySchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { access, error } = await tenantReader();
  if (error) return error;
  return Response.json(await listProducts(await getDb(), access.tenantId, parsed.data));
}
