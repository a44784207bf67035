import { getDb } from "@/db/client";
import { marketplaceEventReceived } from "@/inngest/functions/marketplace-event-received";
import { sendEvent } from "@/inngest/send";
import { receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";

/** Signed marketplace events (Standard Webhooks) for one installation: verify, dedupe, queue. */
export async function POST(request: Request, { params }: { params: Promise<{ installationId: string }> }) {
  const { installationId } = await params;
  const result = await receiveMarketplaceWebhook(
    await getDb(),
    { installationId, headers: request.headers, body: request.body },
    { enqueue: async (webhookId, id) => void (await sendEvent(marketplaceEventReceived(webhookId, id))) },
  );
  return Response.json(result.body, { status: result.status });
}
