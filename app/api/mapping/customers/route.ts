import { getDb } from "@/db/client";
import { customerListQuerySchema, listCustomers } from "@/lib/mapping/customers";
import { badRequest, parseQuery, resellerAdmin, tenantReader } from "../_shared";

/** Customers tab: server-side search, "show only unmapped" and paging. */
export async function GET(request: Request) {
  const parsed = parseQuery(request, customerListQuerySchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { access, error } = await tenantReader();
  if (error) return error;
  return Response.json(await listCustomers(await getDb(), access.tenantId, parsed.data));
}
