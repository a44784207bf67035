import { getDb } from "@/db/client";
import { authorizeTenantRead } from "@/lib/auth/session";
import { listTasks, taskListQuerySchema } from "@/lib/tasks/tasks";

/** The task list: filters (state, type, q) and server-side paging, with counts per state. */
export async function GET(request: Request) {
  const parsed = taskListQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: parsed.error.issues.map((i) => i.message).join("; ") }, { status: 400 });
  const { access, error } = await authorizeTenantRead();
  if (error) return error;
  return Response.json(await listTasks(await getDb(), access.tenantId, parsed.data));
}
