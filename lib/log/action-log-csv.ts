import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { actionLog } from "@/db/schema";
import { atMicros, queryActionLogLines, type ActionLogFilter, type ActionLogScope } from "./action-log-query";

/**
 * The Action Log as CSV (RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled), streamed: a ReadableStream that reads the next
 * keyset page only when the consumer asks for more, so the whole result is never in memory — at most
 * one page of `pageSize` rows being read and one encoded page waiting. Rows written during the export
 * are newer than its first page and are not in it; it is the log as it was when the export began.
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab / carriage return)
 * as a formula, and messages carry text from the marketplace. Such cells get a leading `'`.
 *
 * Memory (P4, bench/action-log-p4.ts): PostgreSQL writes each row's CSV record itself
 * (`actionLogCsvRecord`, the same rules as `csvField` in SQL), so a page reaches JavaScript as one
 * string per row that is joined and encoded once. Mapping rows to objects and formatting them field by
 * field in JavaScript made ~1 MB of a page survive each young-generation GC and pile up in the old
 * generation until the next full GC (RSS +40–60 MB for 100,000 rows on PostgreSQL; now about +9 MB).
 */

export const ACTION_LOG_CSV_COLUMNS = ["id", "at", "tenant_id", "level", "category", "actor_type", "actor_label", "message", "task_id", "details"] as const;
/** rows per page read: a page in flight is what the export holds in memory */
export const ACTION_LOG_EXPORT_PAGE = 500;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: formula guard, then quoting when needed. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (typeof value === "string" && FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/**
 * `csvField` of a text expression, in SQL: NULL → empty; a leading `'` before = + - @ tab CR; quoted
 * (quotes doubled) when it holds a quote, comma or line break. The guard's `'` needs no quoting, so
 * the quoting test looks at the value itself. (tests/integration/action-log-routes.test.ts compares
 * it with `csvField` on both databases.)
 */
export function csvFieldSql(value: SQL): SQL<string> {
  const guard = sql`case when ${value} ~ '^[=+\\-@\\t\\r]' then '''' else '' end`;
  return sql<string>`coalesce(case when ${value} ~ '[",\\r\\n]' then '"' || ${guard} || replace(${value}, '"', '""') || '"' else ${guard} || ${value} end, '')`;
}

/**
 * One row's CSV record (with its CRLF), written by PostgreSQL: the columns of ACTION_LOG_CSV_COLUMNS,
 * `at` in UTC to the microsecond, `details` as its JSON text (empty for `{}`). The id, the uuids and
 * `at` never hold a character to guard or quote.
 */
export const actionLogCsvRecord: SQL<string> = sql<string>`${sql.join(
  [
    sql`${actionLog.id}::text`,
    atMicros,
    sql`coalesce(${actionLog.tenantId}::text, '')`,
    csvFieldSql(sql`${actionLog.level}`),
    csvFieldSql(sql`${actionLog.category}`),
    csvFieldSql(sql`${actionLog.actorType}`),
    csvFieldSql(sql`${actionLog.actorLabel}`),
    csvFieldSql(sql`${actionLog.message}`),
    sql`coalesce(${actionLog.taskId}::text, '')`,
    sql`case when ${actionLog.details} = '{}'::jsonb then '' else ${csvFieldSql(sql`${actionLog.details}::text`)} end`,
  ],
  sql` || ',' || `,
)} || chr(13) || chr(10)`;

/** A file name for the export: `action-log-2026-12-06.csv`. */
export function actionLogCsvFileName(now = new Date()): string {
  return `action-log-${now.toISOString().slice(0, 10)}.csv`;
}

/**
 * The CSV export of every row the filter matches in the scope, newest first: the header line, then
 * one line per row. Pull-based: each `pull` reads one page and enqueues it as one chunk.
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
        const page = await queryActionLogLines(db, scope, filter, { limit: pageSize, cursor }, actionLogCsvRecord);
        if (page.entries.length > 0) controller.enqueue(encoder.encode(page.entries.join("")));
        cursor = page.nextCursor;
        if (!cursor) controller.close();
      },
    },
    // one chunk ahead at most: the next page is read when the consumer has taken the last one
    { highWaterMark: 1 },
  );
}
