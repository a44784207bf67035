import { getDb } from "@/db/client";
import { customerCounts } from "@/lib/mapping/customers";
import { productCounts } from "@/lib/mapping/products";
import { getMappingStatus } from "@/lib/mapping/status";
import { resellerAdmin, unauthorized } from "../_shared";

/** When the cache was last refreshed from Sage and from the marketplace, and mapped/unmapped counts. */
export async function GET() {
  const user = await resellerAdmin();
  if (!user) return unauthorized();
  const db = await getDb();
  const [status, products, customers] = [await getMappingStatus(db, user.tenantId), await productCounts(db, user.tenantId), await customerCounts(db, user.tenantId)];
  return Response.json({ ...status, counts: { products, customers } });
}
