import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { listActionLog } from "@/lib/log/action-log";

const query = z.object({ limit: z.coerce.number().int().min(1).max(200).optional(), before: z.coerce.number().int().positive().optional() });

export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: "limit must be 1–200 and before a positive id" }, { status: 400 });
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const rows = await listActionLog(await getDb(), user.tenantId, { limit: parsed.data.limit, beforeId: parsed.data.before });
  return Response.json({ entries: rows.map((r) => ({ ...r, at: r.at.toISOString() })) });
}
