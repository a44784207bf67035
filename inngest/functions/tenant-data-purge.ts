import { getDb } from "@/db/client";
import { listInstallationsDueForPurge, purgeTenantDataChunk } from "@/lib/install/uninstall";
import { defineFunction } from "../define";
import { tenantDataPurgeRequested } from "../events";

export const TENANT_DATA_PURGE_CRON = "TZ=UTC 30 3 * * *";
/** installations listed per step and events per `step.sendEvent` */
export const PURGE_PAGE = 100;
/** rows deleted per step (one transaction): a bounded step whatever the tenant's size */
export const PURGE_ROWS_PER_STEP = 5000;
/** slices per run before the purge continues in a fresh run (Inngest allows 1,000 steps a run) */
const SLICES_PER_RUN = 200;

/**
 * Daily: uninstalled installations whose retention (TENANT_DATA_RETENTION_DAYS) has run out get one
 * purge event each; each is purged by its own run.
 */
export const tenantDataPurgeDaily = defineFunction(
  { id: "tenant-data-purge-daily", name: "Purge uninstalled tenants' data after the retention", triggers: [{ cron: TENANT_DATA_PURGE_CRON }], concurrency: { limit: 1 }, retries: 3 },
  async ({ step, event }) => {
    const day = new Date(event.ts ?? Date.now()).toISOString().slice(0, 10);
    const due = await step.run("list-due", async () => (await listInstallationsDueForPurge(await getDb(), new Date(event.ts ?? Date.now()), PURGE_PAGE)).map((i) => i.id));
    if (due.length > 0) await step.sendEvent("purge", due.map((installationId) => tenantDataPurgeRequested.create({ installationId }, { id: `purge-${installationId}-${day}` })));
    return { dispatched: due.length };
  },
);

/**
 * One installation's purge, in slices of ≤ 5,000 rows per step (children before parents); the last
 * slice marks the installation purged and writes the Action Log row. An installation installed
 * again meanwhile is left as it is (each slice checks). Past 200 slices it continues in a new run.
 */
export const tenantDataPurge = defineFunction(
  { id: "tenant-data-purge", name: "Purge one uninstalled tenant's data", triggers: [tenantDataPurgeRequested], concurrency: { limit: 1, key: "event.data.installationId" }, retries: 5 },
  async ({ step, event }) => {
    let deleted = 0;
    for (let slice = 0; slice < SLICES_PER_RUN; slice++) {
      const result = await step.run(`purge-slice-${slice}`, async () =>
        purgeTenantDataChunk(await getDb(), { installationId: event.data.installationId, limit: PURGE_ROWS_PER_STEP, deletedBefore: deleted }),
      );
      deleted += result.deleted;
      if (result.done) return { ...result, deleted };
    }
    await step.sendEvent("continue", tenantDataPurgeRequested.create({ installationId: event.data.installationId }, { id: `purge-${event.data.installationId}-${Date.now()}` }));
    return { done: false, deleted };
  },
);
