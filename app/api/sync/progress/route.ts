import { z } from "zod";
import { getDb } from "@/db/client";
import { parseJsonBody } from "@/lib/http/json-body";
import { syncProgress } from "@/lib/sync/dispatch";
import { issues, syncAdmin } from "../_shared";

const body = z.object({
  taskIds: z.array(z.string().uuid("task ids are UUIDs"), { message: "taskIds must be a list of task ids" }).min(1, "taskIds is empty").max(50_000, "At most 50,000 tasks."),
  since: z.iso.datetime({ message: "since must be an ISO date-time", offset: true }).optional(),
});

/**
 * Progress of the tasks a Sync started (POST: the list can be long). A read: changes nothing.
 * {total, finished, counts, done}.
 */
export async function POST(request: Request) {
  const parsed = await parseJsonBody(request, body);
  if (!parsed.success) return issues(parsed.error);
  const auth = await syncAdmin();
  if (auth.error) return auth.error;
  const { taskIds, since } = parsed.data;
  return Response.json(await syncProgress(await getDb(), auth.user.tenantId, [...new Set(taskIds)], since ? new Date(since) : undefined));
}
