import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { disconnectSage } from "@/lib/connections/disconnect";

/** The confirmation the dashboard sends: a disconnect is never a side effect of an empty POST. */
const disconnectSchema = z.object({ confirm: z.literal(true, { message: "Confirm the disconnect: send { \"confirm\": true }. Nothing was changed." }) }).strict();

/** Disconnect Sage: tokens deleted here, mappings and history kept, syncs paused. */
export async function POST(request: Request) {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const parsed = disconnectSchema.safeParse(await request.json().catch(() => null));
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]?.message ?? "Invalid request. Nothing was changed." }, { status: 400 });
  const result = await disconnectSage(await getDb(), { tenantId: user.tenantId, actor: actorFor(user) });
  if (!result.ok) return Response.json({ error: result.message }, { status: 409 });
  return Response.json({ disconnected: true, businessName: result.businessName });
}
