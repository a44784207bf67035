import { getDb } from "@/db/client";
import { SYSTEM_ACTOR } from "@/lib/log/action-log";
import { reconcileScopeFiles } from "@/lib/sage-catalog/scope-files";
import { defineFunction } from "../define";
import { fileExchangeFileUpdated } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/**
 * A scope file updated in Sage 50 Cloud → the latest full file downloaded and the Mapping screen's
 * catalog or contacts reconciled (deletions flagged, never dropped). One step: one file, one
 * transaction; a retry downloads the latest file again (the platform keeps only the latest).
 */
export const fileExchangeDownload = defineFunction(
  {
    id: "file-exchange-download",
    name: "Download a Sage 50 scope file and reconcile the mapping cache",
    triggers: [fileExchangeFileUpdated],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 4,
  },
  async ({ event, step }) => {
    const { tenantId, connectionId, scope } = event.data;
    return step.run(`download-${scope.toLowerCase()}`, async () => reconcileScopeFiles(await getDb(), { tenantId, connectionId, scopes: [scope], actor: SYSTEM_ACTOR }));
  },
);
