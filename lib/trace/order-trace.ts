import { and, asc, eq, gte, inArray, isNull, like, lte, or, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import {
  actionLog,
  connections,
  fileUploads,
  inboxEvents,
  inlineRuns,
  marketplaceCustomers,
  sageCalls,
  sageDocuments,
  syncBatchTasks,
  syncTasks,
  type LogLevel,
  type OrderType,
  type TaskState,
} from "@/db/schema";
import { getSageTarget } from "@/lib/sage/targets";
import { getSettings } from "@/lib/settings/settings";
import { sageDocumentUrl } from "@/lib/sync/dispatch";

/**
 * The order trace (issue #13): one marketplace order's story in time order — how it arrived (the
 * webhook and its verification, or the Check Changes run), the task and its state changes, the flow
 * runs and steps (inline runner only), every Sage call made for it (its own, and the calls its Sync
 * all run or Sage 50 upload shared with other orders), the documents created and the notifications
 * shown. Tenant-scoped: another tenant's task is `null`. Bounded: at most MAX_TRACE_ENTRIES entries.
 */

export const MAX_TRACE_ENTRIES = 500;
/** Sage calls read per trace (own calls first, then shared ones) */
const MAX_CALLS = 400;

export type OrderTraceEntryKind = "arrival" | "state_change" | "run" | "step" | "sage_call" | "document" | "notification" | "log";

export type OrderTraceSageCall = {
  target: string;
  method: string;
  path: string;
  /** null: no HTTP answer (network error, timeout) */
  status: number | null;
  durationMs: number;
  attempt: number;
  /** attempt > 1: this call repeats a failed one */
  retry: boolean;
  errorKind: string | null;
  /** what Sage (or the network) said */
  errorMessage: string | null;
  /** redacted, truncated */
  requestBody: string | null;
  responseBody: string | null;
  /** made for this order and others at once (a Sync all run's reference data, a Sage 50 upload) */
  shared: boolean;
  batchId: string | null;
  step: string | null;
};

export type OrderTraceEntry = {
  /** unique within the trace (a React key) */
  id: string;
  /** ISO 8601 */
  at: string;
  durationMs?: number;
  kind: OrderTraceEntryKind;
  title: string;
  /** a short verdict: an HTTP status, a task state, a log level, ok / failed */
  status?: string;
  tone: "neutral" | "success" | "warning" | "error";
  /** label → value, shown when the entry is expanded */
  details: { label: string; value: string }[];
  link?: { href: string; label: string; external: boolean };
  sageCall?: OrderTraceSageCall;
};

export type OrderTrace = {
  task: {
    id: string;
    orderId: string;
    customerId: string;
    customerName: string | null;
    orderType: OrderType;
    requestType: string;
    state: TaskState;
    currency: string | null;
    reason: string | null;
    reasonLink: string | null;
    source: "push" | "pull";
    attempts: number;
    createdAt: string;
    updatedAt: string;
    syncedAt: string | null;
  };
  /** oldest first */
  entries: OrderTraceEntry[];
  /** more entries existed than MAX_TRACE_ENTRIES: the newest were left out */
  truncated: boolean;
  totalEntries: number;
  /** what the trace cannot show, in plain words */
  notes: string[];
  counts: { sageCalls: number; retries: number; failedCalls: number };
};

export type OrderTraceOptions = {
  /** the inline runner's runs are in the database; under an Inngest server they are not (default: from the environment) */
  inlineRunner?: boolean;
  maxEntries?: number;
};

const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString();
const toneOfLevel = (level: LogLevel): OrderTraceEntry["tone"] => (level === "success" ? "success" : level === "error" ? "error" : level === "action_required" || level === "warning" ? "warning" : "neutral");

function usesInngestServer(): boolean {
  return ["INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY", "INNGEST_BASE_URL"].some((v) => !!process.env[v]) || !!process.env.INNGEST_DEV && !/^(0|false)$/i.test(process.env.INNGEST_DEV ?? "");
}

/** What the sync's Action Log row says about the task's state, if it is a state change. */
function stateOfLog(row: { level: LogLevel; category: string; message: string; details: Record<string, unknown> }): TaskState | null {
  if (row.category !== "sync") return null;
  if (row.level === "success" && / synced: /.test(row.message)) return "synced";
  if (row.level === "action_required") return "action_required";
  if (row.level === "error" && / failed: /.test(row.message)) return "failed";
  if (typeof row.details.state === "string" && row.details.state === "ignored") return "ignored";
  return null;
}

export async function getOrderTrace(db: Database, input: { tenantId: string; taskId: string }, opts: OrderTraceOptions = {}): Promise<OrderTrace | null> {
  if (!/^[0-9a-f-]{36}$/i.test(input.taskId)) return null;
  const [task] = await db
    .select()
    .from(syncTasks)
    .where(and(eq(syncTasks.id, input.taskId), eq(syncTasks.tenantId, input.tenantId)));
  if (!task) return null;
  const [customer] = await db
    .select({ name: marketplaceCustomers.name })
    .from(marketplaceCustomers)
    .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, task.marketplaceCustomerId)));
  const settings = await getSettings(db, input.tenantId);
  const entries: OrderTraceEntry[] = [];
  const notes: string[] = [];

  // ─── arrival ───────────────────────────────────────────────────────────────────────────────
  if (task.source === "push") {
    const deliveries = await db
      .select()
      .from(inboxEvents)
      .where(and(eq(inboxEvents.tenantId, input.tenantId), like(inboxEvents.type, "order.%"), sql`${inboxEvents.payload} -> 'data' -> 'request' ->> 'id' = ${task.marketplaceOrderId}`))
      .orderBy(asc(inboxEvents.receivedAt))
      .limit(20);
    for (const d of deliveries) {
      entries.push({
        id: `inbox-${d.installationId}-${d.webhookId}`,
        at: iso(d.receivedAt),
        durationMs: d.processedAt ? Math.max(0, d.processedAt.getTime() - d.receivedAt.getTime()) : undefined,
        kind: "arrival",
        title: `Webhook ${d.type} received`,
        status: d.error ? "not applied" : d.processedAt ? "processed" : "waiting",
        tone: d.error ? "error" : "success",
        details: [
          { label: "Webhook id", value: d.webhookId },
          { label: "Verification", value: "signature verified (webhook-id, webhook-timestamp, webhook-signature) before it was stored; duplicates of this id are dropped" },
          { label: "Processed", value: d.processedAt ? iso(d.processedAt) : "not yet" },
          ...(d.error ? [{ label: "Error", value: d.error }] : []),
        ],
      });
    }
    if (deliveries.length === 0) notes.push("The order was pushed by the marketplace, but its webhook delivery is no longer stored (or was recorded under another id).");
  } else {
    const [run] = await db
      .select()
      .from(actionLog)
      .where(and(eq(actionLog.tenantId, input.tenantId), isNull(actionLog.taskId), like(actionLog.message, "Check Changes%"), gte(actionLog.at, task.createdAt), lte(actionLog.at, new Date(task.createdAt.getTime() + 60 * 60_000))))
      .orderBy(asc(actionLog.at))
      .limit(1);
    entries.push({
      id: "arrival-pull",
      at: iso(task.createdAt),
      durationMs: run ? Math.max(0, run.at.getTime() - task.createdAt.getTime()) : undefined,
      kind: "arrival",
      title: "Found by Check Changes (pulled from the marketplace)",
      status: "pulled",
      tone: "success",
      details: [
        { label: "Order created in the marketplace", value: iso(task.orderCreatedAt) },
        ...(run ? [{ label: "Check Changes run", value: `${run.actorLabel}: ${run.message}` }] : []),
      ],
    });
  }
  entries.push({
    id: "task-created",
    at: iso(task.createdAt),
    kind: "state_change",
    title: `Task created: ${task.orderType} (${task.requestType})`,
    status: "pending",
    tone: "neutral",
    details: [
      { label: "Order", value: task.marketplaceOrderId },
      { label: "Items", value: task.items.map((i) => `${i.mpn} ${i.change} ${i.quantity}${i.oldQuantity !== undefined && i.oldQuantity !== null ? ` (was ${i.oldQuantity})` : ""}`).join("; ") || "none" },
    ],
  });

  // ─── Action Log: state changes, notifications, the rest ──────────────────────────────────────
  const logs = await db.select().from(actionLog).where(and(eq(actionLog.tenantId, input.tenantId), eq(actionLog.taskId, task.id))).orderBy(asc(actionLog.at), asc(actionLog.id)).limit(MAX_TRACE_ENTRIES);
  const popsUp = (level: LogLevel, category: string) => level === "error" || level === "action_required" || (settings.notifications === "all_tasks" && level === "success" && category === "sync");
  for (const l of logs) {
    const state = stateOfLog(l);
    entries.push({
      id: `log-${l.id}`,
      at: iso(l.at),
      kind: state ? "state_change" : "log",
      title: l.message,
      status: state ?? l.level,
      tone: toneOfLevel(l.level),
      details: [
        { label: "Actor", value: l.actorLabel },
        { label: "Level", value: l.level },
        { label: "Category", value: l.category },
        ...(Object.keys(l.details).length ? [{ label: "Details", value: JSON.stringify(l.details).slice(0, 2000) }] : []),
      ],
    });
    if (popsUp(l.level, l.category)) {
      entries.push({ id: `notification-${l.id}`, at: iso(l.at), kind: "notification", title: `Pop-up shown: ${l.message}`, status: l.level, tone: toneOfLevel(l.level), details: [{ label: "Why", value: settings.notifications === "all_tasks" ? "Notifications: all tasks" : "Notifications: errors and actions required" }] });
    }
  }

  // ─── flow runs and steps (inline runner) ─────────────────────────────────────────────────────
  const inline = opts.inlineRunner ?? !usesInngestServer();
  const calls = await traceCalls(db, input.tenantId, task.id);
  const batchIds = [...new Set(calls.map((c) => c.batchId).filter((b): b is string => !!b))];
  if (inline) {
    const batches = await db.select({ batchId: syncBatchTasks.batchId }).from(syncBatchTasks).where(eq(syncBatchTasks.taskId, task.id)).limit(50);
    const runs = await db
      .select()
      .from(inlineRuns)
      .where(
        or(
          and(eq(inlineRuns.functionId, "sync-task"), sql`${inlineRuns.event} -> 'data' ->> 'taskId' = ${task.id}`),
          batches.length ? and(eq(inlineRuns.functionId, "sync-batch"), inArray(sql`${inlineRuns.event} -> 'data' ->> 'batchId'`, batches.map((b) => b.batchId))) : undefined,
        ),
      )
      .orderBy(asc(inlineRuns.createdAt))
      .limit(50);
    for (const r of runs) {
      const finished = r.status === "completed" || r.status === "failed";
      entries.push({
        id: `run-${r.id}`,
        at: iso(r.createdAt),
        durationMs: finished ? Math.max(0, r.updatedAt.getTime() - r.createdAt.getTime()) : undefined,
        kind: "run",
        title: `Flow run ${r.functionId}`,
        status: r.status,
        tone: r.status === "failed" ? "error" : r.status === "completed" ? "success" : "neutral",
        details: [
          { label: "Run id", value: r.id },
          { label: "Attempts", value: String(r.attempt + 1) },
          ...(r.lastError ? [{ label: "Last error", value: r.lastError.slice(0, 2000) }] : []),
        ],
      });
      for (const [stepId, record] of Object.entries(r.steps ?? {})) {
        const rec = record as { op?: string; error?: { message?: string } };
        const ofStep = calls.filter((c) => c.runId === r.id && c.step === stepId);
        const first = ofStep[0];
        const last = ofStep.at(-1);
        entries.push({
          id: `step-${r.id}-${stepId}`,
          at: first ? iso(first.at) : iso(r.createdAt),
          durationMs: first && last ? Math.max(0, last.at.getTime() + last.durationMs - first.at.getTime()) : undefined,
          kind: "step",
          title: `Step ${stepId}${rec.op && rec.op !== "run" ? ` (${rec.op})` : ""}`,
          status: rec.error ? "failed" : "done",
          tone: rec.error ? "error" : "neutral",
          details: [
            { label: "Run", value: r.id },
            { label: "Sage calls", value: String(ofStep.length) },
            ...(first ? [] : [{ label: "Time", value: "the run's start (the runner does not record step times; steps with Sage calls are placed at their first call)" }]),
            ...(rec.error?.message ? [{ label: "Error", value: rec.error.message.slice(0, 2000) }] : []),
          ],
        });
      }
    }
    if (runs.length === 0 && calls.length > 0) notes.push("No flow run is stored for this order (the run was purged, or the sync ran outside a flow).");
  } else {
    notes.push("Flow runs and steps are kept by the Inngest server, not in this database: open the run in the Inngest dashboard (its run id is on each Sage call below).");
  }

  // ─── Sage calls ─────────────────────────────────────────────────────────────────────────────
  let retries = 0;
  let failedCalls = 0;
  for (const c of calls) {
    const shared = c.taskId !== task.id;
    if (c.attempt > 1) retries++;
    if (c.status === null || c.status >= 400) failedCalls++;
    const ok = c.status !== null && c.status < 400;
    entries.push({
      id: `call-${c.id}`,
      at: iso(c.at),
      durationMs: c.durationMs,
      kind: "sage_call",
      title: `${c.method} ${c.path}`,
      status: c.status === null ? "no answer" : String(c.status),
      tone: ok ? "success" : c.status === 401 ? "warning" : "error",
      details: [
        ...(c.errorMessage ? [{ label: "Error", value: `${c.errorKind ?? "error"}: ${c.errorMessage}` }] : []),
        { label: "Target", value: c.target },
        ...(c.step ? [{ label: "Step", value: c.step }] : []),
        ...(c.runId ? [{ label: "Run", value: c.runId }] : []),
        ...(shared ? [{ label: "Shared", value: `made once for several orders (${c.batchId ?? "batch"})` }] : []),
        ...(c.requestBody ? [{ label: "Request (redacted)", value: c.requestBody }] : []),
        ...(c.responseBody ? [{ label: "Response (redacted)", value: c.responseBody }] : []),
      ],
      sageCall: {
        target: c.target,
        method: c.method,
        path: c.path,
        status: c.status,
        durationMs: c.durationMs,
        attempt: c.attempt,
        retry: c.attempt > 1,
        errorKind: c.errorKind,
        errorMessage: c.errorMessage,
        requestBody: c.requestBody,
        responseBody: c.responseBody,
        shared,
        batchId: c.batchId,
        step: c.step,
      },
    });
  }
  if (calls.length === 0 && task.state !== "pending") notes.push(`No Sage call is recorded for this order (calls are kept ${"for"} SAGE_CALL_RETENTION_DAYS days; older ones are purged).`);
  void batchIds;

  // ─── documents ──────────────────────────────────────────────────────────────────────────────
  const docs = await db
    .select({ doc: sageDocuments, target: connections.target })
    .from(sageDocuments)
    .innerJoin(connections, eq(connections.id, sageDocuments.connectionId))
    .where(and(eq(sageDocuments.tenantId, input.tenantId), eq(sageDocuments.taskId, task.id)))
    .orderBy(asc(sageDocuments.createdAt));
  for (const { doc, target } of docs) {
    const written = doc.sageId !== "";
    const fileExchange = getSageTarget(target).exchange === "file_exchange";
    const linkKind = doc.kind === "sales_invoice_lines" ? "sales_invoice" : doc.kind;
    const linkId = doc.kind === "contact_allocation" ? String((doc.details as { creditNoteId?: string }).creditNoteId ?? doc.sageId) : doc.sageId;
    const label = doc.displayedAs ?? doc.sageId;
    entries.push({
      id: `doc-${doc.id}`,
      at: iso(doc.createdAt),
      kind: "document",
      title: `${doc.kind.replace(/_/g, " ")} ${written ? label : "(pending: the write's outcome is not known yet)"}`,
      status: written ? "written" : "pending",
      tone: written ? "success" : "warning",
      details: [
        { label: "Sage id", value: doc.sageId || "—" },
        { label: "Reference", value: doc.reference ?? "—" },
        { label: "Idempotency id", value: doc.idempotencyId },
        ...(doc.currency ? [{ label: "Currency", value: doc.currency }] : []),
        ...(fileExchange && written ? [{ label: "Link", value: "Sage 50 documents live in the desktop product: no link" }] : []),
      ],
      link: written && !fileExchange && doc.kind !== "contact" ? { href: sageDocumentUrl(linkKind, linkId), label: `Open ${label} in Sage`, external: true } : undefined,
    });
  }

  // ─── now ────────────────────────────────────────────────────────────────────────────────────
  entries.push({ id: "now", at: iso(task.updatedAt), kind: "state_change", title: `Current state: ${task.state}${task.reason ? ` — ${task.reason}` : ""}`, status: task.state, tone: task.state === "synced" ? "success" : task.state === "failed" ? "error" : task.state === "action_required" ? "warning" : "neutral", details: [{ label: "Sync attempts", value: String(task.attempts) }, ...(task.lastError ? [{ label: "Last error", value: task.lastError }] : [])] });

  // time order; ties keep the order they were gathered in (arrival, task, logs, runs, calls, documents)
  const ordered = entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.at.localeCompare(b.e.at) || a.i - b.i).map((x) => x.e);
  const max = opts.maxEntries ?? MAX_TRACE_ENTRIES;
  const truncated = ordered.length > max;
  if (truncated) notes.push(`This order has ${ordered.length} trace entries: the first ${max} are shown.`);
  return {
    task: {
      id: task.id,
      orderId: task.marketplaceOrderId,
      customerId: task.marketplaceCustomerId,
      customerName: customer?.name ?? null,
      orderType: task.orderType,
      requestType: task.requestType,
      state: task.state,
      currency: task.currency,
      reason: task.reason,
      reasonLink: task.reasonLink,
      source: task.source,
      attempts: task.attempts,
      createdAt: iso(task.createdAt),
      updatedAt: iso(task.updatedAt),
      syncedAt: task.syncedAt ? iso(task.syncedAt) : null,
    },
    entries: truncated ? ordered.slice(0, max) : ordered,
    truncated,
    totalEntries: ordered.length,
    notes,
    counts: { sageCalls: calls.length, retries, failedCalls },
  };
}

/**
 * The Sage calls of a task: its own (task_id), and the shared calls of the runs and uploads that
 * served it — a Sync all run's calls without a task (reference data, look-ups) under the batch ids
 * its own calls carry, and the calls of every Sage 50 upload that holds the task.
 */
async function traceCalls(db: Database, tenantId: string, taskId: string) {
  const own = await db.select().from(sageCalls).where(and(eq(sageCalls.tenantId, tenantId), eq(sageCalls.taskId, taskId))).orderBy(asc(sageCalls.at), asc(sageCalls.id)).limit(MAX_CALLS);
  const uploads = await db.select({ uploadId: fileUploads.uploadId }).from(fileUploads).where(and(eq(fileUploads.tenantId, tenantId), sql`${fileUploads.taskIds} @> ${JSON.stringify([taskId])}::jsonb`)).limit(20);
  const batchIds = [...new Set([...own.map((c) => c.batchId).filter((b): b is string => !!b), ...uploads.map((u) => u.uploadId)])];
  const shared = batchIds.length
    ? await db
        .select()
        .from(sageCalls)
        .where(and(eq(sageCalls.tenantId, tenantId), inArray(sageCalls.batchId, batchIds), isNull(sageCalls.taskId)))
        .orderBy(asc(sageCalls.at), asc(sageCalls.id))
        .limit(Math.max(0, MAX_CALLS - own.length))
    : [];
  return [...own, ...shared].sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id);
}
