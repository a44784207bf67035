import { z } from "zod";
import { getDb } from "@/db/client";
import { parseJsonBody } from "@/lib/http/json-body";
import { syncBatchProgress } from "@/lib/sync/batches";
import { syncProgress } from "@/lib/sync/dispatch";
import { authorizeTenantRead } from "@/lib/auth/session";
import { issues } from "../_shared";

const body = z.union(
  [
    z.object({ batchId: z.string().uuid("batchId is a UUID") }),
    z.object({
      taskIds: z.array(z.string().uuid("task ids are UUIDs"), { message: "taskIds must be a list of task ids" }).min(1, "taskIds is empty").max(1_000, "At most 1,000 task ids; use the batch id."),
      since: z.iso.datetime({ message: "since must be an ISO date-time", offset: true }).optional(),
    }),
  ],
  { message: "Send {batchId} (from POST /api/sync) or {taskIds, since}." },
);

/**
 * Progress of a sync: of a batch (Sync all, Sync selected) by its id, or of a few tasks by their ids.
 * A read: changes nothing. {total, finished, counts, done} (+ status and error of a batch).
 */
export async function POST(request: Request) {
  const parsed = await parseJsonBody(request, body);
  if (!parsed.success) return issues(parsed.error);
  const auth = await authorizeTenantRead(); // a read: support viewing the tenant may follow a sync
  if (auth.error) return auth.error;
  const db = await getDb();
  if ("batchId" in parsed.data) {
    const progress = await syncBatchProgress(db, auth.access.tenantId, parsed.data.batchId);
    return progress ? Response.json(progress) : Response.json({ error: "No such sync for this account." }, { status: 404 });
  }
  const { taskIds, since } = parsed.data;
  return Response.json(await syncProgress(db, auth.access.tenantId, [...new Set(taskIds)], since ? new Date(since) : undefined));
}
