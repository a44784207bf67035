import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { recordRequestFailure, REFRESH_OPS } from "@/lib/mapping/status";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { defineFunction } from "../define";

export const SAGE_CACHE_REFRESH_REQUESTED = "mapping/sage-cache.refresh.requested";
export type SageCacheRefreshData = { tenantId: string; requestId: string; actor: Actor };

/** "Refresh from Sage": items and customer contacts of the connected business → the mapping cache. */
export const sageCacheRefresh = defineFunction(
  {
    id: "sage-cache-refresh",
    name: "Refresh the cached Sage items and contacts",
    triggers: [{ event: SAGE_CACHE_REFRESH_REQUESTED }],
    concurrency: { limit: 1, key: "event.data.tenantId" },
    retries: 2,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: SageCacheRefreshData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Refresh from Sage", message: error.message, details: { op: REFRESH_OPS.sage } });
    },
  },
  async ({ event, step }) => {
    const data = event.data as SageCacheRefreshData;
    return step.run("refresh-sage-cache", async () => refreshSageCatalog(await getDb(), data));
  },
);
