import { getDb } from "@/db/client";
import { connectionTestRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { findActiveConnection } from "@/lib/connections/authorize";

/** Queue a connection test (an Inngest function talks to Sage); the result lands in the Action Log. */
export async function POST() {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const connection = await findActiveConnection(await getDb(), user.tenantId);
  if (!connection) return Response.json({ error: "No Sage connection to test. Connect Sage first." }, { status: 409 });
  const { ids } = await sendEvent(connectionTestRequested.create({ tenantId: user.tenantId, connectionId: connection.id, actor: actorFor(user) }));
  return Response.json({ queued: true, eventId: ids[0] }, { status: 202 });
}
