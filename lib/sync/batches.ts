import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { arrayParam } from "@/db/array-param";
import type { Database, Queryable } from "@/db/client";
import { connections, syncBatches, syncBatchTasks, syncTasks, type SyncBatchTrigger, type TaskState } from "@/db/schema";
import { getSageTarget } from "@/lib/sage/targets";
import { getConfig } from "@/lib/config";
import { SYSTEM_ACTOR, writeActionLog, type Actor } from "@/lib/log/action-log";
import { syncTaskBatchUntil, type BatchResult } from "./batch";

/**
 * Sync batches: a Sync all / Sync selected / auto-sync / sweeper request of any size is one
 * `sync_batches` row with its tasks in `sync_batch_tasks` (in order). The Inngest event names only
 * the batch; the flow syncs it a slice of ≤ {@link syncTasksPerStep} tasks per step (fixed for the run
 * when it starts), so no step holds more than ~30 s of Sage work at the rate limit, and a retried step
 * redoes one slice only.
 */

/** Sage work one step may hold at the rate limit, in seconds (a serverless host allows a few minutes a request). */
export const SYNC_STEP_SAGE_SECONDS = 30;
/**
 * A step takes no new chunk of its slice after this long (when Sage answers slower than its rate
 * limit would pace it); the rest of the slice is the next step's. With a chunk under way when it
 * passes, a step stays within ~30 s.
 */
export const SYNC_STEP_TIME_BOX_MS = 20_000;
/** Most tasks one step syncs at any rate limit (what one step reads, plans and records at once). */
export const SYNC_TASKS_PER_STEP_MAX = 1_000;

/**
 * Tasks per step at a rate limit: ~1 Sage call each, so ≤ ~30 s of Sage work at the limit — 100 at
 * Sage's 200 calls a minute; more (up to 1,000) where the target allows more calls, so fast Sage
 * work is not cut into steps that each pay a step's start and finish.
 */
export function syncTasksPerStep(rate: { limit: number; periodSeconds: number } = getConfig().sage.rateLimit): number {
  return Math.max(1, Math.min(SYNC_TASKS_PER_STEP_MAX, Math.floor((rate.limit * SYNC_STEP_SAGE_SECONDS) / rate.periodSeconds)));
}
/** Steps in one run before the batch continues in a new run (Inngest allows 1,000 steps a run). */
export const SYNC_STEPS_PER_RUN = 400;

const EMPTY_RESULT: BatchResult = { synced: 0, failed: 0, actionRequired: 0, skipped: 0, documents: 0 };

const TRIGGER_WORDS: Record<SyncBatchTrigger, string> = {
  sync_all: "Sync all",
  sync_selected: "Sync of the selected tasks",
  auto_sync: "Auto-sync",
  sweeper: "Re-sync of tasks left processing",
  reconnect: "Re-sync after reconnect",
};

const tasks = (n: number) => `${n.toLocaleString("en-GB")} ${n === 1 ? "task" : "tasks"}`;

/**
 * One batch row + its task rows, and its Action Log row, in one transaction. The tasks are stored
 * with one statement whatever their number (a single array parameter).
 */
export async function createSyncBatch(
  db: Database,
  input: { tenantId: string; connectionId: string; trigger: SyncBatchTrigger; actor: Actor; taskIds: string[] },
): Promise<{ batchId: string; taskCount: number }> {
  const taskIds = [...new Set(input.taskIds)];
  if (taskIds.length === 0) throw new Error("a sync batch needs at least one task");
  return db.transaction(async (tx) => {
    const [batch] = await tx
      .insert(syncBatches)
      .values({ tenantId: input.tenantId, connectionId: input.connectionId, trigger: input.trigger, requestedBy: input.actor.label, taskCount: taskIds.length, result: { ...EMPTY_RESULT } })
      .returning({ id: syncBatches.id });
    const batchId = batch!.id;
    await tx.execute(
      sql`insert into ${syncBatchTasks} (batch_id, position, task_id) select ${batchId}::uuid, (t.ord - 1)::int, t.id from unnest(${arrayParam(taskIds, "uuid")}) with ordinality as t(id, ord)`,
    );
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "sync",
      message: `${TRIGGER_WORDS[input.trigger]} started: ${tasks(taskIds.length)} to sync.`,
      details: { batchId, trigger: input.trigger, taskCount: taskIds.length },
    });
    return { batchId, taskCount: taskIds.length };
  });
}

export type SyncBatchHead = {
  batchId: string;
  tenantId: string;
  connectionId: string;
  taskCount: number;
  status: string;
  /** fixed when the run starts (absent in runs recorded before it existed: 100) */
  tasksPerStep?: number;
  /** how the connection's target takes documents: API calls per record, or order files (absent: api) */
  exchange?: "api" | "file_exchange";
};

/** Marks the batch running (first step of each run); null when there is no such batch. */
export async function startSyncBatch(db: Queryable, batchId: string): Promise<SyncBatchHead | null> {
  const [row] = await db
    .update(syncBatches)
    .set({ status: sql`case when ${syncBatches.status} = 'queued' then 'running' else ${syncBatches.status} end`, startedAt: sql`coalesce(${syncBatches.startedAt}, now())`, updatedAt: sql`now()` })
    .where(eq(syncBatches.id, batchId))
    .returning();
  if (!row) return null;
  const [connection] = await db.select({ target: connections.target }).from(connections).where(eq(connections.id, row.connectionId));
  const exchange = connection ? getSageTarget(connection.target).exchange : "api";
  return { batchId: row.id, tenantId: row.tenantId, connectionId: row.connectionId, taskCount: row.taskCount, status: row.status, tasksPerStep: syncTasksPerStep(), exchange };
}

/** The slice size of a batch's run (the head's, recorded by its start step). */
export function tasksPerStepOf(head: SyncBatchHead): number {
  return head.tasksPerStep ?? 100;
}

/** The task ids at positions [from, from + limit) of a batch, in order. */
export async function batchTaskIds(db: Queryable, batchId: string, from: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ taskId: syncBatchTasks.taskId })
    .from(syncBatchTasks)
    .where(and(eq(syncBatchTasks.batchId, batchId), gte(syncBatchTasks.position, from), lt(syncBatchTasks.position, from + limit)))
    .orderBy(asc(syncBatchTasks.position));
  return rows.map((r) => r.taskId);
}

/**
 * One step's work: sync the slice at `from` and add its outcome to the batch's totals. The totals
 * are bookkeeping for the summary; progress is read from the tasks themselves (what is recorded).
 */
export async function syncBatchSlice(db: Database, head: SyncBatchHead, from: number, limit = tasksPerStepOf(head), timeBoxMs = SYNC_STEP_TIME_BOX_MS): Promise<BatchResult & { tasks: number }> {
  const taskIds = await batchTaskIds(db, head.batchId, from, limit);
  const { result, consumed } = taskIds.length
    ? await syncTaskBatchUntil(db, { tenantId: head.tenantId, connectionId: head.connectionId, taskIds, deadline: Date.now() + timeBoxMs })
    : { result: { ...EMPTY_RESULT }, consumed: 0 };
  await db
    .update(syncBatches)
    .set({
      result: sql`jsonb_build_object(
        'synced', coalesce((${syncBatches.result}->>'synced')::int, 0) + ${result.synced}::int,
        'failed', coalesce((${syncBatches.result}->>'failed')::int, 0) + ${result.failed}::int,
        'actionRequired', coalesce((${syncBatches.result}->>'actionRequired')::int, 0) + ${result.actionRequired}::int,
        'skipped', coalesce((${syncBatches.result}->>'skipped')::int, 0) + ${result.skipped}::int,
        'documents', coalesce((${syncBatches.result}->>'documents')::int, 0) + ${result.documents}::int)`,
      updatedAt: sql`now()`,
    })
    .where(eq(syncBatches.id, head.batchId));
  return { ...result, tasks: consumed };
}

/** The batch is done: status, totals and a summary row in the Action Log, in one transaction. */
export async function finishSyncBatch(db: Database, batchId: string): Promise<BatchResult | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(syncBatches)
      .set({ status: "completed", finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(syncBatches.id, batchId), sql`${syncBatches.status} <> 'completed'`))
      .returning();
    if (!row) return null;
    const r = { ...EMPTY_RESULT, ...row.result } as BatchResult;
    const parts = [`${r.synced} synced`, r.failed ? `${r.failed} failed` : null, r.actionRequired ? `${r.actionRequired} need action` : null, r.skipped ? `${r.skipped} already done` : null].filter(Boolean);
    await writeActionLog(tx, {
      tenantId: row.tenantId,
      actor: SYSTEM_ACTOR,
      level: r.failed || r.actionRequired ? "warning" : "success",
      category: "sync",
      message: `${TRIGGER_WORDS[row.trigger]} finished: ${parts.join(", ")} (of ${tasks(row.taskCount)}).`,
      details: { batchId, ...r },
    });
    return r;
  });
}

/**
 * The flow gave up (every retry spent): the batch is failed, and the Action Log says what happened,
 * how far it got (from the tasks: what is recorded is done) and what to do.
 */
export async function failSyncBatch(db: Database, batchId: string, message: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(syncBatches)
      .set({ status: "failed", lastError: message.slice(0, 2000), finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(syncBatches.id, batchId), sql`${syncBatches.status} not in ('completed', 'failed')`))
      .returning();
    if (!row) return;
    const progress = await batchProgressOf(tx, row);
    await writeActionLog(tx, {
      tenantId: row.tenantId,
      actor: SYSTEM_ACTOR,
      level: "error",
      category: "sync",
      message: `${TRIGGER_WORDS[row.trigger]} stopped after ${progress.finished} of ${tasks(row.taskCount)}: ${message}. What is synced stays synced; the rest stay to sync — click Sync all to go on (nothing is written twice).`,
      details: { batchId, error: message, finished: progress.finished, counts: progress.counts },
    });
  });
}

/** States a sync ends a task in. */
const FINISHED_STATES: TaskState[] = ["synced", "failed", "action_required", "ignored"];

export type SyncBatchProgress = {
  batchId: string;
  total: number;
  finished: number;
  counts: Partial<Record<TaskState, number>>;
  done: boolean;
  status: string;
  error: string | null;
};

async function batchProgressOf(q: Queryable, batch: typeof syncBatches.$inferSelect): Promise<SyncBatchProgress> {
  // a task counts as finished only once it reached a final state after the batch was requested
  const rows = (await q.execute(sql`
    select t.state, (t.updated_at >= ${batch.createdAt.toISOString()}::timestamptz) as fresh, count(*)::int as n
    from ${syncBatchTasks} bt join ${syncTasks} t on t.id = bt.task_id
    where bt.batch_id = ${batch.id}::uuid
    group by 1, 2`)) as unknown as { rows: { state: TaskState; fresh: boolean; n: number }[] };
  const counts: Partial<Record<TaskState, number>> = {};
  for (const r of rows.rows) {
    const state: TaskState = FINISHED_STATES.includes(r.state) && !r.fresh ? "pending" : r.state;
    counts[state] = (counts[state] ?? 0) + Number(r.n);
  }
  const finished = FINISHED_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const ended = batch.status === "completed" || batch.status === "failed";
  return { batchId: batch.id, total: batch.taskCount, finished, counts, done: finished >= batch.taskCount || ended, status: batch.status, error: batch.lastError };
}

/** Progress of one of the tenant's batches (the Sync all progress bar); null when not the tenant's. */
export async function syncBatchProgress(db: Queryable, tenantId: string, batchId: string): Promise<SyncBatchProgress | null> {
  const [batch] = await db.select().from(syncBatches).where(and(eq(syncBatches.id, batchId), eq(syncBatches.tenantId, tenantId)));
  return batch ? batchProgressOf(db, batch) : null;
}

/** The tasks of a batch (tests, support). */
export async function batchTaskCount(db: Queryable, batchId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(syncBatchTasks).where(eq(syncBatchTasks.batchId, batchId));
  return Number(row?.n ?? 0);
}
