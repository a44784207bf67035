import { eq, inArray, lt } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections, sageCalls, type NewSageCall } from "@/db/schema";
import type { SageAttemptRecord } from "@/lib/sage/target";
import { currentTraceContext, withTraceContext, type TraceContext } from "./call-context";
import { pathOf, redactBody } from "./redact";

/**
 * Records every Sage HTTP attempt (SageSession.onAttempt) as a sage_calls row with the task it
 * served (from the trace context, ./call-context.ts). The attempt is queued and written in small
 * multi-row inserts behind the call, so recording adds no round trip to the sync; a failure to
 * record is logged and dropped — it never fails the sync. `withTraceContext` callers that need the
 * rows at once (the end of a step) call `flushSageCalls()`.
 */

type Pending = NewSageCall & { responsePromise?: Promise<string | null> };

const MAX_ROWS_PER_INSERT = 100;
/** attempts kept waiting when the database cannot take them (dropped beyond: recording is best effort) */
const MAX_QUEUED = 5_000;

class CallQueue {
  private rows: Pending[] = [];
  private running: Promise<void> | null = null;
  private tenantOf = new Map<string, string | null>();
  constructor(private readonly db: Database) {}

  push(row: Pending) {
    if (this.rows.length >= MAX_QUEUED) return;
    this.rows.push(row);
    this.running ??= this.drain();
  }

  /** Resolves once everything queued before (and while) it was called is written or dropped. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      // let the call that queued the row go on first
      await new Promise<void>((r) => setImmediate(r));
      while (this.rows.length > 0) {
        const batch = this.rows.splice(0, MAX_ROWS_PER_INSERT);
        try {
          const values = await Promise.all(
            batch.map(async ({ responsePromise, ...row }) => ({
              ...row,
              tenantId: row.tenantId ?? (row.connectionId ? await this.tenantOfConnection(row.connectionId) : null),
              responseBody: responsePromise ? redactBody(await responsePromise.catch(() => null)) : row.responseBody,
            })),
          );
          await this.db.insert(sageCalls).values(values);
        } catch (e) {
          console.error(`sage_calls: ${batch.length} call record(s) not written: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async tenantOfConnection(connectionId: string): Promise<string | null> {
    if (this.tenantOf.has(connectionId)) return this.tenantOf.get(connectionId)!;
    const [row] = await this.db.select({ tenantId: connections.tenantId }).from(connections).where(eq(connections.id, connectionId));
    this.tenantOf.set(connectionId, row?.tenantId ?? null);
    return row?.tenantId ?? null;
  }
}

const queues = new Map<Database, CallQueue>();

function queueOf(db: Database): CallQueue {
  let q = queues.get(db);
  if (!q) queues.set(db, (q = new CallQueue(db)));
  return q;
}

/** The SageSession observer of one connection: each attempt becomes a queued sage_calls row. */
export function sageCallRecorder(db: Database, connectionId: string): (record: SageAttemptRecord) => void {
  const queue = queueOf(db);
  return (record) => {
    const ctx = currentTraceContext();
    const response = record.responseBody;
    queue.push({
      at: record.startedAt,
      tenantId: ctx.tenantId ?? null,
      connectionId,
      taskId: ctx.taskId ?? null,
      batchId: ctx.batchId ?? null,
      runId: ctx.runId ?? null,
      step: ctx.step ?? null,
      target: record.target,
      method: record.method,
      path: pathOf(record.url),
      status: record.status,
      durationMs: record.durationMs,
      attempt: record.attempt,
      errorKind: record.errorKind,
      errorMessage: record.errorMessage ? record.errorMessage.slice(0, 1000) : null,
      requestBody: redactBody(record.requestBody),
      responseBody: typeof response === "string" || response === null ? redactBody(response) : null,
      responsePromise: typeof response === "string" || response === null ? undefined : response,
    });
  };
}

/** Wait until every queued call record (of every database) is written. Never throws. */
export async function flushSageCalls(): Promise<void> {
  await Promise.all([...queues.values()].map((q) => q.flush().catch(() => {})));
}

// ─── retention ───────────────────────────────────────────────────────────────────────────────

export const SAGE_CALL_PURGE_ROWS_PER_STEP = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The cut-off of a purge at `now`. */
export function sageCallCutoff(now: Date, retentionDays: number): string {
  return new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
}

/** One bounded slice of the purge: up to `limit` calls older than `before`, oldest first. */
export async function purgeSageCallsSlice(db: Database, input: { before: string; limit?: number }): Promise<{ deleted: number; done: boolean }> {
  const limit = input.limit ?? SAGE_CALL_PURGE_ROWS_PER_STEP;
  const doomed = db.select({ id: sageCalls.id }).from(sageCalls).where(lt(sageCalls.at, new Date(input.before))).orderBy(sageCalls.at).limit(limit);
  const deleted = (await db.delete(sageCalls).where(inArray(sageCalls.id, doomed)).returning({ id: sageCalls.id })).length;
  return { deleted, done: deleted < limit };
}

/**
 * `fn` in the trace context, then the calls it made written before it returns (the end of a flow
 * step: the trace shows them as soon as the step is recorded).
 */
export async function withRecordedCalls<T>(context: TraceContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await withTraceContext(context, fn);
  } finally {
    await flushSageCalls();
  }
}
