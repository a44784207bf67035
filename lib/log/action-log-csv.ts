import type { Queryable } from "@/db/client";
import { queryActionLogForExport, type ActionLogExportRow, type ActionLogFilter, type ActionLogScope } from "./action-log-query";

/**
 * The Action Log as CSV (RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled), streamed: a ReadableStream that reads the next
 * keyset page only when the consumer asks for more, so the whole result is never in memory — at most
 * one page of `pageSize` rows. Rows written during the export are newer than its first page and are
 * not in it; it is the log as it was when the export began.
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab / carriage return)
 * as a formula, and messages carry text from the marketplace. Such cells get a leading `'`.
 */

export const ACTION_LOG_CSV_COLUMNS = ["id", "at", "tenant_id", "level", "category", "actor_type", "actor_label", "message", "task_id", "details"] as const;
/** rows per page read: a page in flight is what the export holds in memory */
export const ACTION_LOG_EXPORT_PAGE = 500;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: formula guard, then quoting when needed. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (typeof value === "string" && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

function entryLine(e: ActionLogExportRow): string {
  return csvLine([e.id, e.at, e.tenantId, e.level, e.category, e.actorType, e.actorLabel, e.message, e.taskId, e.details === "{}" ? "" : e.details]);
}

/** A file name for the export: `action-log-2026-12-06.csv`. */
export function actionLogCsvFileName(now = new Date()): string {
  return `action-log-${now.toISOString().slice(0, 10)}.csv`;
}

/**
 * The CSV export of every row the filter matches in the scope, newest first: the header line, then
 * one line per row. Pull-based: each `pull` reads one page.
 */
export function actionLogCsvStream(db: Queryable, scope: ActionLogScope, filter: ActionLogFilter = {}, opts: { pageSize?: number } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const pageSize = opts.pageSize ?? ACTION_LOG_EXPORT_PAGE;
  let cursor: string | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(csvLine([...ACTION_LOG_CSV_COLUMNS])));
          return;
        }
        const page = await queryActionLogForExport(db, scope, filter, { limit: pageSize, cursor });
        if (page.entries.length > 0) controller.enqueue(encoder.encode(page.entries.map(entryLine).join("")));
        cursor = page.nextCursor;
        if (!cursor) controller.close();
      },
    },
    // one chunk ahead at most: the next page is read when the consumer has taken the last one
    { highWaterMark: 1 },
  );
}
