import { z } from "zod";
import { getDb } from "@/db/client";
import { syncBatchRequested, syncTaskRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { actorFor } from "@/lib/auth/session-user";
import { parseJsonBody } from "@/lib/http/json-body";
import { startSync, SyncRequestError } from "@/lib/sync/dispatch";
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
 * sync, records the request (a sync batch for more than one task) and hands it to the sync flow.
 * 202 {batchId | taskId, taskCount, since} — poll /api/sync/progress with the batch id (or task id).
 */
export async function POST(request: Request) {
  // an empty body is "Sync all"; a body that is not JSON is refused (never read as "all")
  const parsed = await parseJsonBody(request, body, { empty: {} });
  if (!parsed.success) return issues(parsed.error);
  const auth = await syncAdmin();
  if (auth.error) return auth.error;
  const since = new Date();
  try {
    const taskIds = parsed.data.taskIds ? [...new Set(parsed.data.taskIds)] : undefined;
    const started = await startSync(await getDb(), { tenantId: auth.user.tenantId, taskIds, actor: actorFor(auth.user) });
    if (started.kind === "task") {
      await sendEvent(syncTaskRequested.create({ tenantId: started.tenantId, connectionId: started.connectionId, taskId: started.taskId }));
      return Response.json({ taskId: started.taskId, taskIds: [started.taskId], taskCount: 1, since: since.toISOString() }, { status: 202 });
    }
    await sendEvent(syncBatchRequested.create({ tenantId: started.tenantId, connectionId: started.connectionId, batchId: started.batchId }, { id: `sync-batch-${started.batchId}` }));
    return Response.json({ batchId: started.batchId, taskCount: started.taskCount, since: since.toISOString() }, { status: 202 });
  } catch (e) {
    if (e instanceof SyncRequestError) return Response.json({ error: e.message }, { status: 409 });
    throw e;
  }
}
