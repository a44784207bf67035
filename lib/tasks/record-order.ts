import { and, eq, sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { marketplaceCustomers, syncTasks, type NOTIFICATION_MODES, type SyncTask } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import type { MarketplaceCustomerDto, MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { upsertMarketplaceCustomer } from "@/lib/marketplace/catalog";
import { getSettings } from "@/lib/settings/settings";
import { ORDER_TYPE_LABELS, describeItem, orderToTask, type TaskDraft } from "./order-to-task";

type NotificationMode = (typeof NOTIFICATION_MODES)[number];

export type RecordOrderOutcome = "created" | "known" | "refreshed";
export type RecordOrderResult = { outcome: RecordOrderOutcome; taskId: string; state: SyncTask["state"] };

/**
 * Record one marketplace order as a sync task — the one function push (webhooks) and pull (Check
 * Changes) share, so both produce the same task. Call it inside a transaction: the customer upsert,
 * the task and its Action Log row commit together.
 *
 * - One task per (tenant, order): `INSERT … ON CONFLICT DO NOTHING`.
 * - A later version of a known order (its `updated` is newer than the stored one) refreshes the task
 *   — items, type, state and reason recomputed — only while the task has not been worked on: state
 *   `pending` or `action_required` and no sync attempt yet. Synced, processing, failed and ignored
 *   tasks are left as they are. An older or equal version changes nothing (`known`).
 * - Action Log (setting "Notifications"): with "errors and actions required" only tasks that need
 *   action are logged; with "all tasks" every created or refreshed task is.
 */
export async function recordOrder(
  tx: Queryable,
  input: {
    tenantId: string;
    order: MarketplaceRequestDto;
    source: "push" | "pull";
    actor: Actor;
    /** the tenant's Notifications setting, when the caller already has it (read here otherwise) */
    notifications?: NotificationMode;
    /** a batch (Check Changes) upserts each customer once: ids already upserted in this batch */
    customersDone?: Set<string>;
  },
): Promise<RecordOrderResult> {
  const { tenantId, order, source, actor } = input;
  const draft = orderToTask(order);
  const customerId = order.asset.tiers.customer.id;
  if (!input.customersDone?.has(customerId)) {
    await upsertCustomerFromOrder(tx, tenantId, order.asset.tiers.customer);
    input.customersDone?.add(customerId);
  }

  const values = taskValues(draft, order);
  const [inserted] = await tx
    .insert(syncTasks)
    .values({ tenantId, ...values, source })
    .onConflictDoNothing({ target: [syncTasks.tenantId, syncTasks.marketplaceOrderId] })
    .returning();
  if (inserted) {
    await logTask(tx, { tenantId, task: inserted, draft, order, actor, source, refreshed: false, notifications: input.notifications });
    return { outcome: "created", taskId: inserted.id, state: inserted.state };
  }

  const [existing] = await tx
    .select()
    .from(syncTasks)
    .where(and(eq(syncTasks.tenantId, tenantId), eq(syncTasks.marketplaceOrderId, order.id)))
    .for("update");
  if (!existing) throw new Error(`Task for order ${order.id} vanished while it was being recorded`);
  const storedUpdatedAt = orderUpdatedAt(existing.order, existing.orderCreatedAt);
  const refreshable =
    (existing.state === "pending" || existing.state === "action_required") &&
    existing.attempts === 0 &&
    draft.state !== "ignored" &&
    draft.orderUpdatedAt.getTime() > storedUpdatedAt.getTime();
  if (!refreshable) return { outcome: "known", taskId: existing.id, state: existing.state };

  const [updated] = await tx
    .update(syncTasks)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(syncTasks.id, existing.id))
    .returning();
  await logTask(tx, { tenantId, task: updated!, draft, order, actor, source, refreshed: true, notifications: input.notifications });
  return { outcome: "refreshed", taskId: updated!.id, state: updated!.state };
}

function taskValues(draft: TaskDraft, order: MarketplaceRequestDto) {
  return {
    marketplaceOrderId: draft.marketplaceOrderId,
    marketplaceCustomerId: draft.marketplaceCustomerId,
    requestType: draft.requestType,
    orderType: draft.orderType,
    state: draft.state,
    reason: draft.reason,
    reasonLink: draft.reasonLink,
    items: draft.items,
    currency: draft.currency,
    billingPeriod: draft.billingPeriod,
    order: order as Record<string, unknown>,
    orderCreatedAt: draft.orderCreatedAt,
  };
}

function orderUpdatedAt(order: Record<string, unknown>, fallback: Date): Date {
  const raw = typeof order.updated === "string" ? order.updated : typeof order.created === "string" ? order.created : null;
  const d = raw ? new Date(raw) : fallback;
  return Number.isNaN(d.getTime()) ? fallback : d;
}

/**
 * The order carries a thin copy of its customer (`asset.tiers.customer`): upsert it, keeping what a
 * fuller record (from a customer event or the customers API) already told us.
 */
async function upsertCustomerFromOrder(tx: Queryable, tenantId: string, customer: MarketplaceCustomerDto) {
  const [known] = await tx
    .select({ raw: marketplaceCustomers.raw })
    .from(marketplaceCustomers)
    .where(and(eq(marketplaceCustomers.tenantId, tenantId), eq(marketplaceCustomers.marketplaceCustomerId, customer.id)));
  const merged = { ...(known?.raw ?? {}), ...stripNullish(customer) } as MarketplaceCustomerDto;
  if (known?.raw && typeof known.raw.contact_info === "object" && known.raw.contact_info && customer.contact_info) {
    merged.contact_info = { ...(known.raw.contact_info as Record<string, unknown>), ...stripNullish(customer.contact_info) };
  }
  await upsertMarketplaceCustomer(tx, tenantId, merged);
}

function stripNullish<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

async function logTask(
  tx: Queryable,
  input: { tenantId: string; task: SyncTask; draft: TaskDraft; order: MarketplaceRequestDto; actor: Actor; source: "push" | "pull"; refreshed: boolean; notifications?: NotificationMode },
) {
  const { task, draft, order } = input;
  const needsAction = task.state === "action_required" || task.state === "failed";
  const notifications = input.notifications ?? (await getSettings(tx, input.tenantId)).notifications;
  if (!needsAction && notifications !== "all_tasks") return;

  const customer = order.asset.tiers.customer.name;
  const what = `${ORDER_TYPE_LABELS[draft.orderType]} task for order ${order.id} (${customer})`;
  const via = input.source === "push" ? "pushed by the marketplace" : "found by Check Changes";
  let message: string;
  if (task.state === "action_required") message = `${what} needs action: ${task.reason}`;
  else if (task.state === "ignored") message = `${what} recorded as ignored: ${task.reason}`;
  else message = `${input.refreshed ? "Updated" : "New"} ${what}, ${via}: ${draft.items.map((i) => describeItem(i)).join("; ")}`;
  if (input.refreshed && task.state !== "pending") message = `Updated ${message.charAt(0).toLowerCase()}${message.slice(1)}`;

  await writeActionLog(tx, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: task.state === "action_required" ? "action_required" : "info",
    category: "sync",
    message,
    details: { orderId: order.id, requestType: order.type, source: input.source, state: task.state, items: draft.items, refreshed: input.refreshed },
    taskId: task.id,
  });
}

/** Used by the Check Changes summary and tests: how many tasks the tenant has. */
export async function countTasks(tx: Queryable, tenantId: string): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(syncTasks).where(eq(syncTasks.tenantId, tenantId));
  return row?.n ?? 0;
}
