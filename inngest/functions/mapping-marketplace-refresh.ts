import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { refreshFromMarketplace } from "@/lib/mapping/marketplace-refresh";
import { recordRequestFailure, REFRESH_OPS } from "@/lib/mapping/status";
import { defineFunction } from "../define";
import { marketplaceRefreshRequested, type AppEventData } from "../events";

/** @deprecated name kept for callers; use `marketplaceRefreshRequested` from inngest/events.ts */
export const MARKETPLACE_REFRESH_REQUESTED = marketplaceRefreshRequested.name;
export type MarketplaceRefreshData = AppEventData<typeof marketplaceRefreshRequested.name>;

/** "Refresh from marketplace": the reseller's products and customers from the marketplace API. */
export const mappingMarketplaceRefresh = defineFunction(
  {
    id: "mapping-marketplace-refresh",
    name: "Refresh marketplace products and customers",
    triggers: [marketplaceRefreshRequested],
    concurrency: { limit: 1, key: "event.data.tenantId" },
    retries: 2,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: MarketplaceRefreshData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Refresh from marketplace", message: error.message, details: { op: REFRESH_OPS.marketplace } });
    },
  },
  async ({ event, step }) => {
    const data = event.data;
    return step.run("refresh-from-marketplace", async () => refreshFromMarketplace(await getDb(), data));
  },
);
