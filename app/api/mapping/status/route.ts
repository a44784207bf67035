import { getDb } from "@/db/client";
import { customerCounts } from "@/lib/mapping/customers";
import { productCounts } from "@/lib/mapping/products";
import { getMappingStatus } from "@/lib/mapping/status";
import { resellerAdmin, tenantReader } from "../_shared";

/** When the cache was last refreshed from Sage and from the marketplace, and mapped/unmapped counts. */
export async function GET() {
  const { access, error } = await tenantReader();
  if (error) return error;
  const db = await getDb();
  const [status, products, customers] = [await getMappingStatus(db, access.tenantId), await productCounts(db, access.tenantId), await customerCounts(db, access.tenantId)];
  return Response.json({ ...status, counts: { products, customers } });
}
