import { eventType, NonRetriableError } from "inngest";
import { z } from "zod";
import { ACTOR_TYPES } from "@/db/schema/action-log";

/**
 * Every event of the app, in one place: name + zod schema (Inngest v4 typed events). Senders build
 * events with `<event>.create(data, { id })`; functions use the same objects as triggers, so the
 * handler's `event.data` is typed from the schema. Inngest validates the data of a triggering
 * event before the handler runs and fails the run at once, without retries, when it does not
 * match (EventValidationError, a NonRetriableError); `defineFunction` does the same check so the
 * inline runner behaves alike, and `sendEvent` refuses an invalid event before it is sent.
 *
 * Payloads are small by design: row ids, never lists of thousands of ids (a Sync all of any size is
 * one `sync_batches` row; the event names it).
 *
 * Schemas are plain (no defaults or transforms): Inngest v4 does not support transforms.
 */

const uuid = z.string().uuid();
const actor = z.object({
  type: z.enum(ACTOR_TYPES),
  id: z.string().nullish(),
  label: z.string().min(1),
});

/** One task → Sage (the "Sync" button on one row, instant auto-sync). */
export const syncTaskRequested = eventType("sync/task.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, taskId: uuid }),
});

/**
 * A sync batch (Sync all, Sync selected, auto-sync, sweeper) → Sage, a slice of ≤ 100 tasks per
 * step. `fromPosition` continues a batch in a new run after many steps.
 */
export const syncBatchRequested = eventType("sync/batch.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, batchId: uuid, fromPosition: z.number().int().min(0).optional() }),
});

/** One tenant's auto-sync tick: Check Changes, then a batch of its pending auto-sync tasks. */
export const autoSyncTenantRequested = eventType("sync/auto-sync.tenant.requested", {
  schema: z.object({ tenantId: uuid, tick: z.string().min(1) }),
});

/** "Test connection" on the dashboard. */
export const connectionTestRequested = eventType("sage/connection.test.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, actor }),
});

/** Keep one idle Sage connection alive (refresh its token before it lapses). */
export const connectionKeepAliveRequested = eventType("sage/connection.keep-alive.requested", {
  schema: z.object({ connectionId: uuid }),
});

/** A verified marketplace webhook stored in `inbox_events`. */
export const marketplaceEventReceived = eventType("marketplace/event.received", {
  schema: z.object({ webhookId: z.string().min(1).max(256), installationId: uuid }),
});

/** "Refresh from marketplace" on the Mapping screen (marketplace only, no Sage call). */
export const marketplaceRefreshRequested = eventType("mapping/marketplace.refresh.requested", {
  schema: z.object({ tenantId: uuid, requestId: uuid, actor }),
});

/** "Refresh from Sage" on the Mapping screen. */
export const sageCacheRefreshRequested = eventType("mapping/sage-cache.refresh.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, requestId: uuid, actor }),
});

/** "Create contact in Sage" for one marketplace customer. */
export const sageContactCreateRequested = eventType("mapping/sage-contact.create.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, customerId: uuid, requestId: uuid, actor }),
});

/** "Add product to Sage" for one marketplace product. */
export const sageItemCreateRequested = eventType("mapping/sage-item.create.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, productId: uuid, requestId: uuid, type: z.enum(["service", "product"]), actor }),
});

/** Purge one uninstalled installation's tenant data whose retention has run out. */
export const tenantDataPurgeRequested = eventType("install/tenant-data.purge.requested", {
  schema: z.object({ installationId: uuid }),
});

/**
 * Purge one tenant's Action Log rows older than `before` (its retention; tenantId null = rows of no
 * tenant). `before` is fixed by the daily run, so every slice and continuation deletes against it.
 */
export const actionLogRetentionPurgeRequested = eventType("action-log/retention.purge.requested", {
  schema: z.object({ tenantId: uuid.nullable(), before: z.iso.datetime(), retentionDays: z.number().int().min(1), deletedBefore: z.number().int().min(0).optional() }),
});

/** A file-exchange platform (Sage 50 Cloud) updated a scope file of a connected company: download and reconcile it. */
export const fileExchangeFileUpdated = eventType("file-exchange/file.updated", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, scope: z.enum(["Products", "Customers"]), fileId: z.string().min(1).max(200) }),
});

/** A (re)connect found no Sage contact id on any customer: check the business's existing contacts (re-sync review). */
export const resyncReviewRequested = eventType("sync/resync-review.requested", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, reviewId: uuid }),
});

/** The reseller confirmed the re-sync review: create the missing contacts, then sync the held orders. */
export const resyncReviewConfirmed = eventType("sync/resync-review.confirmed", {
  schema: z.object({ tenantId: uuid, connectionId: uuid, reviewId: uuid, actor }),
});

export const appEvents = [
  resyncReviewRequested,
  resyncReviewConfirmed,
  fileExchangeFileUpdated,
  syncTaskRequested,
  syncBatchRequested,
  autoSyncTenantRequested,
  connectionTestRequested,
  connectionKeepAliveRequested,
  marketplaceEventReceived,
  marketplaceRefreshRequested,
  sageCacheRefreshRequested,
  sageContactCreateRequested,
  sageItemCreateRequested,
  tenantDataPurgeRequested,
  actionLogRetentionPurgeRequested,
] as const;

export type AppEventName = (typeof appEvents)[number]["name"];
type EventOf<T> = T extends { name: infer N; schema: infer S } ? (S extends z.ZodType ? { name: N; data: z.infer<S> } : never) : never;
export type AppEventData<N extends AppEventName> = Extract<EventOf<(typeof appEvents)[number]>, { name: N }>["data"];

const byName = new Map<string, (typeof appEvents)[number]>(appEvents.map((e) => [e.name, e]));

/** Inngest's own events (`inngest/…`: failures, cron, invoke) are not ours to validate. */
const isInngestInternal = (name: string) => name.startsWith("inngest/");

function check(name: string, schema: unknown, data: unknown): void {
  const result = (schema as z.ZodType).safeParse(data ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "data"}: ${i.message}`).join("; ");
    throw new NonRetriableError(`Invalid "${name}" event: ${problems}`);
  }
}

/**
 * A sender's check: the event is one of ours and its data matches its schema. An unknown name or
 * data that does not match throws NonRetriableError naming the event and every problem.
 */
export function validateAppEvent(event: { name: string; data?: unknown }): void {
  if (isInngestInternal(event.name)) return;
  const type = byName.get(event.name);
  if (!type) throw new NonRetriableError(`Unknown event "${event.name}": not one of inngest/events.ts`);
  check(event.name, type.schema, event.data);
}

/**
 * A function's check, as Inngest does it before the handler runs: the triggering event's data
 * against the schema of the function's trigger for that name (triggers without a schema accept
 * anything). Fails at once, non-retriable (it would fail the same way every time).
 */
export function validateTriggerEvent(triggers: readonly unknown[] | undefined, event: { name: string; data?: unknown }): void {
  if (isInngestInternal(event.name)) return;
  for (const t of triggers ?? []) {
    const trigger = t as { name?: unknown; event?: unknown; schema?: unknown };
    const name = typeof trigger.event === "string" ? trigger.event : typeof trigger.name === "string" ? trigger.name : undefined;
    if (name === event.name && trigger.schema) return check(event.name, trigger.schema, event.data);
  }
}
