import { getDb } from "@/db/client";
import { authorizeTenantRead } from "@/lib/auth/session";
import { getConnectionOverview } from "@/lib/connections/overview";

export async function GET() {
  const { access, error } = await authorizeTenantRead();
  if (error) return error;
  return Response.json({ connection: await getConnectionOverview(await getDb(), access.tenantId) });
}
