import { z } from "zod";
import { getDb } from "@/db/client";
import { parseJsonBody } from "@/lib/http/json-body";
import { SYNC_BATCH_REQUESTED } from "@/inngest/functions/sync-batch";
import { SYNC_TASK_REQUESTED } from "@/inngest/functions/sync-task";
import { sendEvent } from "@/inngest/send";
import { prepareSyncRequest, SyncRequestError } from "@/lib/sync/dispatch";
import { issues, syncAdmin } from "./_shared";

const body = z.object({
  /** omitted = every syncable task ("Sync all") */
  taskIds: z
    .array(z.string().uuid("task ids are UUIDs"), { message: "taskIds must be a list of task ids" })
    .min(1, "Select at least one task.")
    .max(50_000, "At most 50,000 tasks at once.")
    .optional(),
});

/**
 * "Sync" (one task) / "Sync all" (every syncable task, or the selected ones): checks the tenant can
 * sync, then hands the tasks to the sync flow. 202 {taskIds, since} — poll /api/sync/progress with them.
 */
export async function POST(request: Request) {
  // an empty body is "Sync all"; a body that is not JSON is refused (never read as "all")
  const parsed = await parseJsonBody(request, body, { empty: {} });
  if (!parsed.success) return issues(parsed.error);
  const auth = await syncAdmin();
  if (auth.error) return auth.error;
  const since = new Date();
  try {
    const req = await prepareSyncRequest(await getDb(), { tenantId: auth.user.tenantId, taskIds: parsed.data.taskIds ? [...new Set(parsed.data.taskIds)] : undefined });
    const [only] = req.taskIds;
    if (req.taskIds.length === 1 && only) await sendEvent({ name: SYNC_TASK_REQUESTED, data: { tenantId: req.tenantId, taskId: only, connectionId: req.connectionId } });
    else await sendEvent({ name: SYNC_BATCH_REQUESTED, data: { tenantId: req.tenantId, connectionId: req.connectionId, taskIds: req.taskIds } });
    return Response.json({ taskIds: req.taskIds, since: since.toISOString() }, { status: 202 });
  } catch (e) {
    if (e instanceof SyncRequestError) return Response.json({ error: e.message }, { status: 409 });
    throw e;
  }
}
