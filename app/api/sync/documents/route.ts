import { authorizeTenantRead } from "@/lib/auth/session";
import { z } from "zod";
import { getDb } from "@/db/client";
import { documentsForTasks } from "@/lib/sync/dispatch";
import { issues, syncAdmin } from "../_shared";

const query = z.object({
  ids: z
    .string({ message: "ids is required (comma-separated task ids)" })
    .transform((s) => [...new Set(s.split(",").map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.string().uuid("task ids are UUIDs")).max(100, "At most 100 task ids.")),
});

/** The Sage documents written for tasks (invoice, credit note, lines added to an invoice), with links. */
export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return issues(parsed.error);
  const auth = await authorizeTenantRead();
  if (auth.error) return auth.error;
  return Response.json({ documents: await documentsForTasks(await getDb(), auth.access.tenantId, parsed.data.ids) });
}
