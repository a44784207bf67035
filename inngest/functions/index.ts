import { connectionKeepAlive, connectionKeepAliveOne } from "./connection-keep-alive";
import { connectionTest } from "./connection-test";
import { marketplaceEventReceivedFn } from "./marketplace-event-received";
import { autoSyncDaily, autoSyncEvery5Minutes, autoSyncTenant, syncSweeper } from "./auto-sync";
import { syncBatch } from "./sync-batch";
import { syncTask } from "./sync-task";
import { mappingMarketplaceRefresh } from "./mapping-marketplace-refresh";
import { sageCacheRefresh } from "./sage-cache-refresh";
import { sageContactCreate } from "./sage-contact-create";
import { sageItemCreate } from "./sage-item-create";
import { tenantDataPurge, tenantDataPurgeDaily } from "./tenant-data-purge";
import { fileExchangeDownload } from "./file-exchange-download";
import { actionLogRetentionDaily, actionLogRetentionPurge } from "./action-log-retention";
import { resyncReview, resyncReviewConfirm } from "./resync-review";
import { sageCallRetentionDaily } from "./sage-call-retention";

/** Every Inngest function of the app: served by app/api/inngest, run inline by the inline runner. */
export const functions = [
  connectionKeepAlive,
  connectionKeepAliveOne,
  connectionTest,
  marketplaceEventReceivedFn,
  mappingMarketplaceRefresh,
  sageCacheRefresh,
  sageItemCreate,
  sageContactCreate,
  syncTask,
  syncBatch,
  autoSyncEvery5Minutes,
  autoSyncDaily,
  autoSyncTenant,
  syncSweeper,
  tenantDataPurgeDaily,
  tenantDataPurge,
  actionLogRetentionDaily,
  actionLogRetentionPurge,
  sageCallRetentionDaily,
  fileExchangeDownload,
  resyncReview,
  resyncReviewConfirm,
];
