import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { disconnectSage } from "@/lib/connections/disconnect";

/** Disconnect Sage: tokens deleted here, mappings and history kept, syncs paused. */
export async function POST() {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const result = await disconnectSage(await getDb(), { tenantId: user.tenantId, actor: actorFor(user) });
  if (!result.ok) return Response.json({ error: result.message }, { status: 409 });
  return Response.json({ disconnected: true, businessName: result.businessName });
}
