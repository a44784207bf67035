import { getDb } from "@/db/client";
import { authorizeTenantRead } from "@/lib/auth/session";
import { newNotifications, notificationsQuerySchema } from "@/lib/notifications/notifications";

/** Pop-up notifications: new Action Log entries of the signed-in tenant after `?after=<id>` (none without it). */
export async function GET(request: Request) {
  const parsed = notificationsQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: parsed.error.issues.map((i) => i.message).join("; ") }, { status: 400 });
  const { access, error } = await authorizeTenantRead();
  if (error) return error;
  return Response.json(await newNotifications(await getDb(), access.tenantId, parsed.data), { headers: { "Cache-Control": "no-store" } });
}
