import { z } from "zod";
import { getDb } from "@/db/client";
import { searchSageContacts } from "@/lib/mapping/sage-cache";
import { badRequest, parseQuery, resellerAdmin, tenantReader } from "../_shared";

const query = z.object({ search: z.string().trim().max(200).default(""), limit: z.coerce.number().int().min(1).max(200).default(50) });

/** The Sage contact picker (from the cache). */
export async function GET(request: Request) {
  const parsed = parseQuery(request, query);
  if (!parsed.success) return badRequest(parsed.error);
  const { access, error } = await tenantReader();
  if (error) return error;
  return Response.json({ contacts: await searchSageContacts(await getDb(), access.tenantId, parsed.data) });
}
