import { and, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections, customerMappings, marketplaceCustomers, sageDocuments, syncTasks, tenantSettings, type TaskState } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { findActiveConnection } from "@/lib/connections/authorize";
import { connectionTarget } from "@/lib/connections/sage-session";
import { getSageTarget } from "@/lib/sage/targets";
import { SYSTEM_ACTOR, type Actor } from "@/lib/log/action-log";
import { getSettings } from "@/lib/settings/settings";
import { createSyncBatch } from "./batches";

/** States a reseller can (re)sync from. */
export const SYNCABLE_STATES: TaskState[] = ["pending", "failed", "action_required"];

export class SyncRequestError extends Error {}

export type SyncRequest = { tenantId: string; connectionId: string; taskIds: string[] };

/**
 * What a "Sync" / "Sync all" click may send: the tenant's connected Sage connection and the tasks
 * that can be synced. `taskIds` omitted = every syncable task.
 */
export async function prepareSyncRequest(db: Database, input: { tenantId: string; taskIds?: string[] }): Promise<SyncRequest> {
  const connection = await findActiveConnection(db, input.tenantId);
  if (!connection) throw new SyncRequestError("Connect Sage first: there is no Sage connection.");
  if (connection.status === "reconnect_required") throw new SyncRequestError("Reconnect Sage first: Sage refused the connection's authorization.");
  if (!connection.businessId) throw new SyncRequestError("Choose the Sage business to write to first.");
  const where = [eq(syncTasks.tenantId, input.tenantId), inArray(syncTasks.state, SYNCABLE_STATES)];
  if (input.taskIds) {
    if (input.taskIds.length === 0) throw new SyncRequestError("Select at least one task.");
    where.push(inArray(syncTasks.id, input.taskIds));
  }
  const rows = await db.select({ id: syncTasks.id }).from(syncTasks).where(and(...where)).orderBy(syncTasks.orderCreatedAt);
  if (rows.length === 0) throw new SyncRequestError(input.taskIds ? "None of the selected tasks can be synced (already synced, processing or ignored)." : "There is nothing to sync.");
  return { tenantId: input.tenantId, connectionId: connection.id, taskIds: rows.map((r) => r.id) };
}

export type StartedSync =
  | { kind: "task"; tenantId: string; connectionId: string; taskId: string; taskCount: 1 }
  | { kind: "batch"; tenantId: string; connectionId: string; batchId: string; taskCount: number };

/**
 * A "Sync" / "Sync all" click: one task → the single-task flow; more → one sync batch row (the
 * event then carries the batch id only, whatever the number of tasks).
 */
export async function startSync(db: Database, input: { tenantId: string; taskIds?: string[]; actor: Actor }): Promise<StartedSync> {
  const req = await prepareSyncRequest(db, { tenantId: input.tenantId, taskIds: input.taskIds });
  const [only] = req.taskIds;
  // a file-exchange target takes order files: even one task goes as a batch (one file)
  const byFile = (await connectionTarget(db, req.connectionId)).exchange === "file_exchange";
  if (req.taskIds.length === 1 && only && !byFile) return { kind: "task", tenantId: req.tenantId, connectionId: req.connectionId, taskId: only, taskCount: 1 };
  const trigger = input.taskIds ? "sync_selected" : "sync_all";
  const { batchId, taskCount } = await createSyncBatch(db, { tenantId: req.tenantId, connectionId: req.connectionId, trigger, actor: input.actor, taskIds: req.taskIds });
  return { kind: "batch", tenantId: req.tenantId, connectionId: req.connectionId, batchId, taskCount };
}

/** States a sync ends a task in. */
const FINISHED_STATES: TaskState[] = ["synced", "failed", "action_required", "ignored"];

/**
 * Progress of a set of tasks (the Sync all progress bar). With `since` (when the sync was requested),
 * a task counts as finished only when it reached a final state after that moment: a failed or
 * action-required task that is synced again is still "to do" until the new run has handled it
 * (counted as `pending` until then), instead of making the progress look done at once.
 */
export async function syncProgress(db: Database, tenantId: string, taskIds: string[], since?: Date) {
  const fresh = since ? sql<boolean>`${syncTasks.updatedAt} >= ${since.toISOString()}::timestamptz` : sql<boolean>`true`;
  const rows = taskIds.length
    ? await db
        .select({ state: syncTasks.state, fresh: sql<boolean>`${fresh}`, n: sql<number>`count(*)::int` })
        .from(syncTasks)
        .where(and(eq(syncTasks.tenantId, tenantId), inArray(syncTasks.id, taskIds)))
        .groupBy(syncTasks.state, sql`2`)
    : [];
  const counts: Partial<Record<TaskState, number>> = {};
  for (const r of rows) {
    const state: TaskState = FINISHED_STATES.includes(r.state) && !r.fresh ? "pending" : r.state;
    counts[state] = (counts[state] ?? 0) + Number(r.n);
  }
  const total = taskIds.length;
  const finished = (counts.synced ?? 0) + (counts.failed ?? 0) + (counts.action_required ?? 0) + (counts.ignored ?? 0);
  return { total, finished, counts, done: finished >= total };
}

/** Where a Sage document can be opened (the real Sage web app, or the sandbox's inspect page). */
export function sageDocumentUrl(kind: string, sageId: string): string {
  const template = process.env.SAGE_DOCUMENT_URL ?? `${getConfig().sage.apiUrl.replace(/\/v3\.1$/, "")}/inspect#doc-{id}`;
  return template.replace("{kind}", kind).replace("{id}", sageId);
}

/** The Sage documents written for tasks, with links. */
export async function documentsForTasks(db: Database, tenantId: string, taskIds: string[]) {
  if (taskIds.length === 0) return [];
  const rows = await db
    .select({ taskId: sageDocuments.taskId, kind: sageDocuments.kind, sageId: sageDocuments.sageId, displayedAs: sageDocuments.displayedAs, creditNoteId: sql<string | null>`${sageDocuments.details} ->> 'creditNoteId'`, target: connections.target })
    .from(sageDocuments)
    .innerJoin(connections, eq(connections.id, sageDocuments.connectionId))
    .where(and(eq(sageDocuments.tenantId, tenantId), inArray(sageDocuments.taskId, taskIds), sql`${sageDocuments.sageId} <> ''`));
  // an allocation links to the credit note it settles; lines added to an invoice, to that invoice
  return rows
    .filter((r) => r.kind !== "contact")
    .map(({ creditNoteId, target, ...r }) => ({
      ...r,
      // a file-exchange target's documents live in the desktop product: the number is shown, with no link
      url: getSageTarget(target).exchange === "file_exchange" ? null : sageDocumentUrl(r.kind === "sales_invoice_lines" ? "sales_invoice" : r.kind, r.kind === "contact_allocation" ? (creditNoteId ?? r.sageId) : r.sageId),
    }));
}

/**
 * Auto-sync touches only customers whose own auto-sync toggle is on, and only when the tenant's
 * setting is not Off. Returns the pending tasks (of `taskIds`, or all) that qualify.
 */
export async function autoSyncRequest(db: Database, tenantId: string, taskIds?: string[]): Promise<SyncRequest | null> {
  const settings = await getSettings(db, tenantId);
  if (settings.autoSync === "off") return null;
  const where = [eq(syncTasks.tenantId, tenantId), eq(syncTasks.state, "pending"), eq(customerMappings.autoSync, true)];
  if (taskIds) {
    if (taskIds.length === 0) return null;
    where.push(inArray(syncTasks.id, taskIds));
  }
  const rows = await db
    .select({ id: syncTasks.id })
    .from(syncTasks)
    .innerJoin(marketplaceCustomers, and(eq(marketplaceCustomers.tenantId, syncTasks.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, syncTasks.marketplaceCustomerId)))
    .innerJoin(customerMappings, eq(customerMappings.customerId, marketplaceCustomers.id))
    .where(and(...where))
    .orderBy(syncTasks.orderCreatedAt);
  if (rows.length === 0) return null;
  const connection = await findActiveConnection(db, tenantId);
  if (!connection || connection.status !== "connected" || !connection.businessId) return null;
  return { tenantId, connectionId: connection.id, taskIds: rows.map((r) => r.id) };
}

/** Tenants whose auto-sync setting is one of `modes`. */
export async function tenantsWithAutoSync(db: Database, modes: ("daily" | "every_5_minutes" | "instant")[], page: { afterTenantId?: string; limit?: number } = {}) {
  const where = [inArray(tenantSettings.autoSync, modes)];
  if (page.afterTenantId) where.push(gt(tenantSettings.tenantId, page.afterTenantId));
  return db
    .select({ tenantId: tenantSettings.tenantId, mode: tenantSettings.autoSync })
    .from(tenantSettings)
    .where(and(...where))
    .orderBy(tenantSettings.tenantId)
    .limit(page.limit ?? 1_000_000);
}

/**
 * A sync batch for a tenant's pending auto-sync tasks (null when there is nothing to do): the
 * tasks go to the batch row, the caller sends only its id.
 */
export async function createAutoSyncBatch(db: Database, tenantId: string): Promise<{ tenantId: string; connectionId: string; batchId: string; taskCount: number } | null> {
  const request = await autoSyncRequest(db, tenantId);
  if (!request) return null;
  const { batchId, taskCount } = await createSyncBatch(db, { tenantId, connectionId: request.connectionId, trigger: "auto_sync", actor: SYSTEM_ACTOR, taskIds: request.taskIds });
  return { tenantId, connectionId: request.connectionId, batchId, taskCount };
}

/** The sweeper: one sync batch per tenant with tasks left `processing` too long (at most `limit` tenants per call). */
export async function createStuckTaskBatches(db: Database, olderThanMs: number, now = new Date()) {
  const out: { tenantId: string; connectionId: string; batchId: string; taskCount: number }[] = [];
  for (const request of await stuckTasks(db, olderThanMs, now)) {
    const { batchId, taskCount } = await createSyncBatch(db, { tenantId: request.tenantId, connectionId: request.connectionId, trigger: "sweeper", actor: SYSTEM_ACTOR, taskIds: request.taskIds });
    out.push({ tenantId: request.tenantId, connectionId: request.connectionId, batchId, taskCount });
  }
  return out;
}

/** Tasks left `processing` longer than `olderThanMs` (a crash or lost run): grouped per tenant for re-dispatch. */
export async function stuckTasks(db: Database, olderThanMs: number, now = new Date()) {
  const rows = await db
    .select({ id: syncTasks.id, tenantId: syncTasks.tenantId })
    .from(syncTasks)
    .where(and(eq(syncTasks.state, "processing"), lt(syncTasks.updatedAt, new Date(now.getTime() - olderThanMs))));
  const byTenant = new Map<string, string[]>();
  for (const r of rows) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r.id]);
  const out: SyncRequest[] = [];
  for (const [tenantId, ids] of byTenant) {
    const connection = await findActiveConnection(db, tenantId);
    if (connection && connection.status === "connected") out.push({ tenantId, connectionId: connection.id, taskIds: ids });
  }
  return out;
}

/**
 * The single-task flow on a file-exchange connection (instant auto-sync, a queued "Sync"): the task
 * becomes a batch of one, synced as an order file. Null for API targets (the task flow goes on).
 */
export async function routeFileExchangeTask(db: Database, input: { tenantId: string; connectionId: string; taskId: string }): Promise<{ tenantId: string; connectionId: string; batchId: string } | null> {
  if ((await connectionTarget(db, input.connectionId)).exchange !== "file_exchange") return null;
  const { batchId } = await createSyncBatch(db, { tenantId: input.tenantId, connectionId: input.connectionId, trigger: "sync_selected", actor: SYSTEM_ACTOR, taskIds: [input.taskId] });
  return { tenantId: input.tenantId, connectionId: input.connectionId, batchId };
}
