import { z } from "zod";
import { getDb } from "@/db/client";
import { getRequestOutcomes, requestIdsSchema } from "@/lib/mapping/status";
import { badRequest, parseQuery, resellerAdmin, tenantReader } from "../_shared";

const query = z.object({ ids: requestIdsSchema });

/** Outcomes of queued requests: pending until the Inngest function has written its Action Log row. */
export async function GET(request: Request) {
  const parsed = parseQuery(request, query);
  if (!parsed.success) return badRequest(parsed.error);
  const { access, error } = await tenantReader();
  if (error) return error;
  return Response.json({ outcomes: await getRequestOutcomes(await getDb(), access.tenantId, parsed.data.ids) });
}
