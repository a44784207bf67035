import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { validateRedirectUrl } from "@/lib/oauth/validate-redirect";

export async function POST() {
  const user = await getSessionUser();
  if (!user?.tenantId || user.role !== "reseller_admin") return Response.json({ error: "Sign in as a reseller administrator." }, { status: 401 });
  return Response.json(await validateRedirectUrl(await getDb(), { tenantId: user.tenantId, userId: user.id }));
}
