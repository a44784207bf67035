import { getDb } from "@/db/client";
import { processInboxEvent } from "@/lib/marketplace/webhook-intake";
import { getSettings } from "@/lib/settings/settings";
import { autoSyncRequest } from "@/lib/sync/dispatch";
import { defineFunction } from "../define";
import { marketplaceEventReceived as marketplaceEventReceivedType, syncTaskRequested } from "../events";

export const MARKETPLACE_EVENT_RECEIVED = marketplaceEventReceivedType.name;

/**
 * The Inngest event for a new inbox row; its id derives from the row's key (installation,
 * webhook-id), so re-sending is a no-op — and another installation's event with the same webhook-id
 * is a different event, never swallowed as a repeat.
 */
export function marketplaceEventReceived(webhookId: string, installationId: string) {
  return marketplaceEventReceivedType.create({ webhookId, installationId }, { id: `marketplace-inbox-${installationId}-${webhookId}` });
}

/**
 * A verified marketplace webhook (already in `inbox_events`) → customers/products upserted, orders
 * recorded as sync tasks. One event of an installation at a time, so an order's created/updated
 * pair is applied in arrival order (a stale version never overwrites a newer one either way).
 */
export const marketplaceEventReceivedFn = defineFunction(
  {
    id: "marketplace-event-received",
    name: "Process a marketplace event",
    triggers: [marketplaceEventReceivedType],
    concurrency: { limit: 1, key: "event.data.installationId" },
    retries: 5,
  },
  async ({ event, step }) => {
    const { webhookId, installationId } = event.data;
    // a row that cannot be applied is closed and logged by processInboxEvent (outcome "failed"), so it
    // never keeps this installation's queue busy with retries; only transient errors are retried
    const result = await step.run("process-inbox-event", async () => processInboxEvent(await getDb(), installationId, webhookId));
    // auto-sync "instant": a new order is synced as soon as it arrives (customer's toggle on)
    const taskId = "task" in result && result.task && result.task.outcome !== "known" ? result.task.taskId : null;
    if (!taskId) return result;
    const request = await step.run("instant-auto-sync", async () => {
      const db = await getDb();
      const tenantId = "tenantId" in result ? String(result.tenantId) : null;
      if (!tenantId || (await getSettings(db, tenantId)).autoSync !== "instant") return null;
      return autoSyncRequest(db, tenantId, [taskId]);
    });
    if (request) await step.sendEvent("sync-now", syncTaskRequested.create({ tenantId: request.tenantId, taskId, connectionId: request.connectionId }, { id: `instant-${taskId}` }));
    return result;
  },
);
