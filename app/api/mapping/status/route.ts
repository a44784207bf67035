import { getDb } from "@/db/client";
import { customerCounts } from "@/lib/mapping/customers";
import { productCounts } from "@/lib/mapping/products";
import { getMappingStatus } from "@/lib/mapping/status";
import { resellerAdmin } from "../_shared";

/** When the cache was last refreshed from Sage and from the marketplace, and mapped/unmapped counts. */
export async function GET() {
  const { user, error } = await resellerAdmin();
  if (error) return error;
  const db = await getDb();
  const [status, products, customers] = [await getMappingStatus(db, user.tenantId), await productCounts(db, user.tenantId), await customerCounts(db, user.tenantId)];
  return Response.json({ ...status, counts: { products, customers } });
}
