import { z } from "zod";
import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { listActionLog } from "@/lib/log/action-log";

const query = z.object({ limit: z.coerce.number().int().min(1).max(200).optional(), before: z.coerce.number().int().positive().optional() });

export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: "limit must be 1–200 and before a positive id" }, { status: 400 });
  const user = await getSessionUser();
  if (!user?.tenantId) return Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 });
  const rows = await listActionLog(await getDb(), user.tenantId, { limit: parsed.data.limit, beforeId: parsed.data.before });
  return Response.json({ entries: rows.map((r) => ({ ...r, at: r.at.toISOString() })) });
}
