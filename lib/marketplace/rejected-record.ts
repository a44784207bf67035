import { and, eq, gt, sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { actionLog } from "@/db/schema";
import type { StorableProblem } from "@/lib/http/storable-json";
import { printable } from "@/lib/http/storable-json";
import { writeActionLog, type Actor } from "@/lib/log/action-log";

/**
 * One marketplace record (order, customer, product — or a whole event) that was refused because
 * PostgreSQL cannot store it (lib/http/storable-json.ts), reported the same way for push and pull:
 * an `action_required` row in the tenant's Action Log naming the record, the field and what to do.
 * Nothing else of the record is written; the tenant's other records are not held up by it.
 */

export type RejectedKind = "order" | "customer" | "product" | "event";

/** What is wrong: text or nesting found at the edge, or data PostgreSQL refused on the way in. */
export type RecordProblem = StorableProblem | { kind: "refused"; path: string; message: string };

export type RejectedRecord = {
  rejected: true;
  kind: RejectedKind;
  /** the marketplace's id of the record (printable: bad characters escaped), when it can be read */
  id: string | null;
  /** the record's `updated` (pull: the watermark still moves past it), when it can be read */
  updated: string | null;
  problem: RecordProblem;
};

/** The id (or any short text) of a record that may itself hold unstorable text. */
export function recordLabel(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? printable(value, 80) : null;
}

function readable(kind: RejectedKind, id: string | null, webhookId?: string) {
  if (kind === "event") return `event${webhookId ? ` ${printable(webhookId, 80)}` : ""}`;
  return `${kind}${id ? ` ${id}` : " (its id cannot be read)"}`;
}

/** push: a webhook; pull: Check Changes; catalog: customers/products read from the marketplace API (Refresh from marketplace) */
export type RejectedSource = "push" | "pull" | "catalog";

export function rejectedMessage(r: Pick<RejectedRecord, "kind" | "id" | "problem">, source: RejectedSource, webhookId?: string): string {
  // the message is our own text around already printable parts (ids, paths): storable
  const what = readable(r.kind, r.id, webhookId);
  const verb = r.kind === "order" ? "recorded" : "accepted";
  const why = {
    too_deep: "the data is nested too deeply to be stored",
    nul: "the text holds a NUL character, which cannot be stored",
    lone_surrogate: "the text is not valid Unicode, which cannot be stored",
    refused: "the database cannot store it",
  }[r.problem.kind];
  const again = {
    push: "the marketplace then sends it again as a new event (or Check Changes reads it)",
    pull: "the next Check Changes then reads it (its updated time changes)",
    catalog: "the next refresh from the marketplace then reads it",
  }[source];
  const via = { push: "pushed by the marketplace", pull: "found by Check Changes", catalog: "read from the marketplace" }[source];
  return `Marketplace ${what} was not ${verb} (${via}): ${r.problem.message} — ${why}. Correct it in the marketplace; ${again}. The other records were not held up.`;
}

/**
 * Append the Action Log row for a refused record, in the caller's transaction. `dedupeKey`: the same
 * refusal seen again (a push the marketplace retries with the same webhook-id; a pull that re-reads
 * the order at the watermark) is logged once — rows of the last 3 days are looked at.
 */
export async function logRejectedRecord(
  q: Queryable,
  input: { tenantId: string; actor: Actor; record: Pick<RejectedRecord, "kind" | "id" | "updated" | "problem">; source: RejectedSource; dedupeKey?: string; webhookId?: string; eventType?: string },
): Promise<void> {
  const key = input.dedupeKey ? printable(input.dedupeKey, 400) : undefined;
  if (key) {
    const [seen] = await q
      .select({ id: actionLog.id })
      .from(actionLog)
      .where(and(eq(actionLog.tenantId, input.tenantId), gt(actionLog.at, new Date(Date.now() - 3 * 86_400_000)), sql`${actionLog.details}->>'refusal' = ${key}`))
      .limit(1);
    if (seen) return;
  }
  const webhookId = input.webhookId ? printable(input.webhookId, 300) : undefined;
  await writeActionLog(q, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "action_required",
    category: "sync",
    message: rejectedMessage(input.record, input.source, webhookId),
    details: {
      source: input.source,
      record: input.record.kind,
      recordId: input.record.id,
      ...(input.record.updated ? { updated: printable(input.record.updated, 60) } : {}),
      path: input.record.problem.path,
      problem: input.record.problem.kind,
      ...(webhookId ? { webhookId } : {}),
      ...(input.eventType ? { eventType: printable(input.eventType, 60) } : {}),
      ...(key ? { refusal: key } : {}), // not "…Key": the log's redaction would hide it
    },
  });
}

/** SQLSTATE of a database error (pg and PGlite set `code`; drizzle keeps the driver's error as `cause`). */
export function sqlState(e: unknown): string | undefined {
  for (let cur: unknown = e, n = 0; cur && typeof cur === "object" && n < 5; cur = (cur as { cause?: unknown }).cause, n++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Retrying cannot help, the data itself is the problem: a wrong shape (ZodError), a value too deep
 * to walk (RangeError: call stack), or one of PostgreSQL's data exceptions (SQLSTATE class 22:
 * invalid text, numeric out of range, …).
 */
export function isPermanent(e: unknown): boolean {
  if (e instanceof Error && (e.name === "ZodError" || e instanceof RangeError)) return true;
  return sqlState(e)?.startsWith("22") ?? false;
}
