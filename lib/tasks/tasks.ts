import { and, count, desc, eq, ilike, inArray, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "@/db/client";
import { marketplaceCustomers, ORDER_TYPES, syncTasks, TASK_STATES, type OrderType, type TaskState } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { marketplaceRequestSchema } from "@/lib/marketplace/api-schemas";
import { NEVER_SYNCED_REQUEST_TYPES, ORDER_TYPE_LABELS, orderToTask, type TaskItem } from "./order-to-task";

/** Filters of the task list (GET /api/tasks); strings from the query string, parsed here. */
export const taskListQuerySchema = z.object({
  state: z.enum(TASK_STATES, { message: `state must be one of ${TASK_STATES.join(", ")}` }).optional(),
  type: z.enum(ORDER_TYPES, { message: `type must be one of ${ORDER_TYPES.join(", ")}` }).optional(),
  q: z.string().trim().max(200, "search is at most 200 characters").optional().transform((v) => (v ? v : undefined)),
  page: z.coerce.number({ message: "page must be a number" }).int().min(1, "page starts at 1").default(1),
  pageSize: z.coerce.number({ message: "pageSize must be a number" }).int().min(1).max(100, "pageSize is at most 100").default(25),
});
export type TaskListQuery = z.infer<typeof taskListQuerySchema>;

export type TaskRow = {
  id: string;
  marketplaceOrderId: string;
  customerId: string;
  customerName: string | null;
  requestType: string;
  orderType: OrderType;
  state: TaskState;
  reason: string | null;
  reasonLink: string | null;
  items: TaskItem[];
  source: "push" | "pull";
  createdAt: string;
  orderCreatedAt: string;
  ignoredAt: string | null;
  ignoredBy: string | null;
  /** suspend/resume tasks stay ignored */
  canUnignore: boolean;
};

export type TaskList = { tasks: TaskRow[]; total: number; page: number; pageSize: number; counts: Record<TaskState, number> };

/** The states a task can be ignored from (not while being synced, not once synced). */
export const IGNORABLE_STATES: readonly TaskState[] = ["pending", "action_required", "failed"];

export async function taskCounts(db: Queryable, tenantId: string): Promise<Record<TaskState, number>> {
  const rows = await db.select({ state: syncTasks.state, n: count() }).from(syncTasks).where(eq(syncTasks.tenantId, tenantId)).groupBy(syncTasks.state);
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const r of rows) counts[r.state] = Number(r.n);
  return counts;
}

export async function listTasks(db: Queryable, tenantId: string, query: TaskListQuery): Promise<TaskList> {
  const customerJoin = and(eq(marketplaceCustomers.tenantId, syncTasks.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, syncTasks.marketplaceCustomerId));
  const where: SQL[] = [eq(syncTasks.tenantId, tenantId)];
  if (query.state) where.push(eq(syncTasks.state, query.state));
  if (query.type) where.push(eq(syncTasks.orderType, query.type));
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(or(ilike(syncTasks.marketplaceOrderId, like), ilike(syncTasks.marketplaceCustomerId, like), ilike(marketplaceCustomers.name, like), ilike(marketplaceCustomers.email, like))!);
  }
  const condition = and(...where);
  const [totalRow] = await db.select({ n: count() }).from(syncTasks).leftJoin(marketplaceCustomers, customerJoin).where(condition);
  const rows = await db
    .select({ task: syncTasks, customerName: marketplaceCustomers.name })
    .from(syncTasks)
    .leftJoin(marketplaceCustomers, customerJoin)
    .where(condition)
    .orderBy(desc(syncTasks.createdAt), desc(syncTasks.marketplaceOrderId))
    .limit(query.pageSize)
    .offset((query.page - 1) * query.pageSize);
  return {
    tasks: rows.map(({ task, customerName }) => ({
      id: task.id,
      marketplaceOrderId: task.marketplaceOrderId,
      customerId: task.marketplaceCustomerId,
      customerName,
      requestType: task.requestType,
      orderType: task.orderType,
      state: task.state,
      reason: task.reason,
      reasonLink: task.reasonLink,
      items: task.items as TaskItem[],
      source: task.source,
      createdAt: task.createdAt.toISOString(),
      orderCreatedAt: task.orderCreatedAt.toISOString(),
      ignoredAt: task.ignoredAt?.toISOString() ?? null,
      ignoredBy: task.ignoredBy,
      canUnignore: task.state === "ignored" && !isNeverSynced(task.requestType),
    })),
    total: Number(totalRow?.n ?? 0),
    page: query.page,
    pageSize: query.pageSize,
    counts: await taskCounts(db, tenantId),
  };
}

function isNeverSynced(requestType: string) {
  return (NEVER_SYNCED_REQUEST_TYPES as readonly string[]).includes(requestType);
}

export const ignoreInputSchema = z.object({
  ids: z.array(z.string().uuid("task ids are UUIDs"), { message: "Select at least one task." }).min(1, "Select at least one task.").max(500, "At most 500 tasks at once."),
  reason: z.string({ message: "Give a reason for ignoring." }).trim().min(1, "Give a reason for ignoring.").max(500, "The reason is at most 500 characters."),
});
export const unignoreInputSchema = z.object({
  ids: z.array(z.string().uuid("task ids are UUIDs"), { message: "Select at least one task." }).min(1, "Select at least one task.").max(500, "At most 500 tasks at once."),
});

/** Bad input or a task in the wrong state: nothing was changed. */
export class TaskActionError extends Error {
  constructor(message: string, readonly status = 409) {
    super(message);
    this.name = "TaskActionError";
  }
}

async function lockTasks(tx: Queryable, tenantId: string, ids: string[]) {
  const unique = [...new Set(ids)];
  const rows = await tx.select().from(syncTasks).where(and(eq(syncTasks.tenantId, tenantId), inArray(syncTasks.id, unique))).for("update");
  if (rows.length !== unique.length) throw new TaskActionError(`${plural(unique.length - rows.length, "selected task")} no longer exist${unique.length - rows.length === 1 ? "s" : ""}. Nothing was changed; reload the list.`, 404);
  return rows;
}

function plural(n: number, one: string) {
  return `${n} ${n === 1 ? one : `${one}s`}`;
}

/** Ignore tasks (all or none), with a reason; one Action Log row per task, in the same transaction. */
export async function ignoreTasks(db: Database, input: { tenantId: string; ids: string[]; reason: string; actor: Actor }) {
  const { ids, reason } = ignoreInputSchema.parse({ ids: input.ids, reason: input.reason });
  return db.transaction(async (tx) => {
    const rows = await lockTasks(tx, input.tenantId, ids);
    const wrong = rows.filter((t) => !IGNORABLE_STATES.includes(t.state));
    if (wrong.length > 0) {
      throw new TaskActionError(
        `Only pending, action-required or failed tasks can be ignored: ${wrong.map((t) => `${t.marketplaceOrderId} is ${t.state.replace("_", " ")}`).join(", ")}. Nothing was changed.`,
      );
    }
    const now = new Date();
    for (const t of rows) {
      await tx.update(syncTasks).set({ state: "ignored", reason, reasonLink: null, ignoredAt: now, ignoredBy: input.actor.label, updatedAt: now }).where(eq(syncTasks.id, t.id));
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "info",
        category: "sync",
        message: `${ORDER_TYPE_LABELS[t.orderType]} task for order ${t.marketplaceOrderId} ignored: ${reason}`,
        details: { orderId: t.marketplaceOrderId, previousState: t.state, reason },
        taskId: t.id,
      });
    }
    return { ignored: rows.length };
  });
}

/**
 * Un-ignore tasks (all or none) → back to `pending`; if the order itself is unusable (a quantity
 * that is not a number) → back to `action_required` with that reason, so it is never synced as is.
 * Suspend/resume tasks cannot be un-ignored. One Action Log row per task, same transaction.
 */
export async function unignoreTasks(db: Database, input: { tenantId: string; ids: string[]; actor: Actor }) {
  const { ids } = unignoreInputSchema.parse({ ids: input.ids });
  return db.transaction(async (tx) => {
    const rows = await lockTasks(tx, input.tenantId, ids);
    const notIgnored = rows.filter((t) => t.state !== "ignored");
    if (notIgnored.length > 0) throw new TaskActionError(`Only ignored tasks can be un-ignored: ${notIgnored.map((t) => `${t.marketplaceOrderId} is ${t.state.replace("_", " ")}`).join(", ")}. Nothing was changed.`);
    const fixed = rows.filter((t) => isNeverSynced(t.requestType));
    if (fixed.length > 0) {
      throw new TaskActionError(`${fixed.map((t) => t.marketplaceOrderId).join(", ")}: suspensions and resumptions do not change invoices, so they stay ignored. Nothing was changed.`);
    }
    const now = new Date();
    const result = { pending: 0, actionRequired: 0 };
    for (const t of rows) {
      const parsed = marketplaceRequestSchema.safeParse(t.order);
      const draft = parsed.success ? orderToTask(parsed.data) : null;
      const back = draft && draft.state === "action_required" ? { state: "action_required" as const, reason: draft.reason, reasonLink: draft.reasonLink } : { state: "pending" as const, reason: null, reasonLink: null };
      await tx.update(syncTasks).set({ ...back, ignoredAt: null, ignoredBy: null, updatedAt: now }).where(eq(syncTasks.id, t.id));
      if (back.state === "pending") result.pending += 1;
      else result.actionRequired += 1;
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: back.state === "action_required" ? "action_required" : "info",
        category: "sync",
        message:
          back.state === "pending"
            ? `${ORDER_TYPE_LABELS[t.orderType]} task for order ${t.marketplaceOrderId} un-ignored: pending again`
            : `${ORDER_TYPE_LABELS[t.orderType]} task for order ${t.marketplaceOrderId} un-ignored, and still needs action: ${back.reason}`,
        details: { orderId: t.marketplaceOrderId, previousReason: t.reason, state: back.state },
        taskId: t.id,
      });
    }
    return { unignored: rows.length, ...result };
  });
}

/** Dashboard card: counts per state. */
export async function taskSummary(db: Queryable, tenantId: string) {
  const counts = await taskCounts(db, tenantId);
  return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

