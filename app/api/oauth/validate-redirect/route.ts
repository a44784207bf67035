import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { validateRedirectUrl } from "@/lib/oauth/validate-redirect";

export async function POST() {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  return Response.json(await validateRedirectUrl(await getDb(), { tenantId: user.tenantId, userId: user.id }));
}
