import { getDb } from "@/db/client";
import { parseJsonBody } from "@/lib/http/json-body";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { TaskActionError, unignoreInputSchema, unignoreTasks } from "@/lib/tasks/tasks";

/** Un-ignore one or many tasks: back to pending (all or nothing). */
export async function POST(request: Request) {
  const parsed = await parseJsonBody(request, unignoreInputSchema);
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]?.message ?? "Invalid request" }, { status: 400 });
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  try {
    return Response.json(await unignoreTasks(await getDb(), { tenantId: user.tenantId, ids: parsed.data.ids, actor: actorFor(user) }));
  } catch (e) {
    if (e instanceof TaskActionError) return Response.json({ error: e.message }, { status: e.status });
    throw e;
  }
}
