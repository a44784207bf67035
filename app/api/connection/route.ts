import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { getConnectionOverview } from "@/lib/connections/overview";

export async function GET() {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  return Response.json({ connection: await getConnectionOverview(await getDb(), user.tenantId) });
}
