import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { recordRequestFailure, REFRESH_OPS } from "@/lib/mapping/status";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { defineFunction } from "../define";
import { sageCacheRefreshRequested, type AppEventData } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** @deprecated name kept for callers; use `sageCacheRefreshRequested` from inngest/events.ts */
export const SAGE_CACHE_REFRESH_REQUESTED = sageCacheRefreshRequested.name;
export type SageCacheRefreshData = AppEventData<typeof sageCacheRefreshRequested.name>;

/** "Refresh from Sage": items and customer contacts of the connected business → the mapping cache. */
export const sageCacheRefresh = defineFunction(
  {
    id: "sage-cache-refresh",
    name: "Refresh the cached Sage items and contacts",
    triggers: [sageCacheRefreshRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 2,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: SageCacheRefreshData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Refresh from Sage", message: error.message, details: { op: REFRESH_OPS.sage } });
    },
  },
  async ({ event, step }) => {
    const data = event.data;
    return step.run("refresh-sage-cache", async () => refreshSageCatalog(await getDb(), data));
  },
);
