import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { getConnectionOverview } from "@/lib/connections/overview";

export async function GET() {
  const user = await getSessionUser();
  if (!user?.tenantId) return Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 });
  return Response.json({ connection: await getConnectionOverview(await getDb(), user.tenantId) });
}
