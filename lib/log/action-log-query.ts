import { and, desc, eq, gte, ilike, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { actionLog, type ActorType, type LogCategory, type LogLevel } from "@/db/schema";
import type { SessionUser } from "@/lib/auth/session-user";

/**
 * Reading the Action Log: filters, keyset pagination, the drill-down, and the stream of pages the CSV
 * export is built from.
 *
 * Order: newest first, by (at desc, id desc) — `id` breaks ties between rows of the same instant.
 * A page after a cursor holds the rows strictly older than the cursor's (at, id), so rows written
 * while somebody pages never shift a page or repeat a row (they are newer than the first page).
 * The cursor carries `at` to the microsecond (PostgreSQL's precision; a JS Date has milliseconds).
 *
 * Indexes (db/schema/action-log.ts): (tenant_id, at desc, id desc), (tenant_id, level, at desc, id desc),
 * (at desc, id desc) for support across tenants, and a pg_trgm GIN index on message for `text`.
 */

/** Whose rows may be read: one tenant (its reseller admin), or support staff (any tenant, or all). */
export type ActionLogScope = { kind: "tenant"; tenantId: string } | { kind: "support"; tenantId?: string };

export type ActionLogFilter = {
  levels?: LogLevel[];
  categories?: LogCategory[];
  actorType?: ActorType;
  /** part of the actor's label, case-insensitive ("alex", "Support") */
  actor?: string;
  /** inclusive */
  from?: Date;
  /** exclusive */
  to?: Date;
  /** part of the message, case-insensitive */
  text?: string;
};

export const ACTION_LOG_MAX_PAGE = 200;
export const ACTION_LOG_DEFAULT_PAGE = 50;

export type ActionLogPageRequest = { limit?: number; cursor?: string | null };

export type ActionLogListEntry = {
  id: number;
  at: Date;
  tenantId: string | null;
  actorType: ActorType;
  actorId: string | null;
  actorLabel: string;
  level: LogLevel;
  category: LogCategory;
  message: string;
  taskId: string | null;
};
export type ActionLogEntryWithDetails = ActionLogListEntry & { details: Record<string, unknown> };

export type ActionLogPage<E = ActionLogListEntry> = {
  entries: E[];
  /** the cursor of the last row when more rows follow, else null */
  nextCursor: string | null;
};

/** The scope a signed-in user reads the Action Log in, or null when they may not read it. */
export function actionLogScopeFor(user: Pick<SessionUser, "role" | "tenantId">, opts: { tenantId?: string } = {}): ActionLogScope | null {
  if (user.role === "support") return { kind: "support", tenantId: opts.tenantId };
  if (user.role === "reseller_admin" && user.tenantId) return { kind: "tenant", tenantId: user.tenantId };
  return null;
}

// ─── cursor ──────────────────────────────────────────────────────────────────────────────────────

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export type ActionLogCursor = { at: string; id: number };

export function encodeActionLogCursor(cursor: ActionLogCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`, "utf8").toString("base64url");
}

/** The (at, id) a cursor stands for, or null when it is not one of ours. */
export function decodeActionLogCursor(cursor: string): ActionLogCursor | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(cursor)) return null;
  const [at, id, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (rest.length > 0 || !at || !id || !CURSOR_AT.test(at) || !/^[1-9]\d{0,17}$/.test(id)) return null;
  const n = Number(id);
  if (!Number.isSafeInteger(n) || Number.isNaN(Date.parse(at))) return null;
  return { at, id: n };
}

export class InvalidActionLogCursorError extends Error {
  constructor() {
    super("cursor is not a cursor this Action Log gave out");
    this.name = "InvalidActionLogCursorError";
  }
}

// ─── queries ─────────────────────────────────────────────────────────────────────────────────────

/** `at` in UTC to the microsecond, the form a cursor carries (and the CSV export's `at`) */
export const atMicros = sql<string>`to_char(${actionLog.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const listColumns = {
  id: actionLog.id,
  at: actionLog.at,
  tenantId: actionLog.tenantId,
  actorType: actionLog.actorType,
  actorId: actionLog.actorId,
  actorLabel: actionLog.actorLabel,
  level: actionLog.level,
  category: actionLog.category,
  message: actionLog.message,
  taskId: actionLog.taskId,
};

/** `%`, `_` and `\` in a user's text match themselves */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function conditions(scope: ActionLogScope, filter: ActionLogFilter, after: ActionLogCursor | null): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (scope.kind === "tenant") where.push(eq(actionLog.tenantId, scope.tenantId));
  else if (scope.tenantId) where.push(eq(actionLog.tenantId, scope.tenantId));
  if (filter.levels?.length) where.push(filter.levels.length === 1 ? eq(actionLog.level, filter.levels[0]!) : inArray(actionLog.level, filter.levels));
  if (filter.categories?.length) where.push(filter.categories.length === 1 ? eq(actionLog.category, filter.categories[0]!) : inArray(actionLog.category, filter.categories));
  if (filter.actorType) where.push(eq(actionLog.actorType, filter.actorType));
  if (filter.actor) where.push(ilike(actionLog.actorLabel, likeContains(filter.actor)));
  if (filter.from) where.push(gte(actionLog.at, filter.from));
  if (filter.to) where.push(lt(actionLog.at, filter.to));
  if (filter.text) {
    // One tenant: its (tenant, [level,] at, id) index already bounds the rows to look at, newest first,
    // and a page stops after `limit` matches; the trigram index would add the posting lists of a
    // common word across every tenant (P4: 100,000 rows for "failed", 16 ms). So for one tenant the
    // text is a plain case-insensitive `strpos` the trigram index cannot take; across tenants
    // (support) it is ILIKE '%…%', which the trigram index serves.
    const tenantScoped = scope.kind === "tenant" || !!scope.tenantId;
    where.push(tenantScoped ? sql`strpos(lower(${actionLog.message}), lower(${filter.text})) > 0` : ilike(actionLog.message, likeContains(filter.text)));
  }
  // a row value comparison: one index range on (…, at desc, id desc), not an OR the planner cannot use
  if (after) where.push(sql`(${actionLog.at}, ${actionLog.id}) < (${after.at}::timestamptz, ${after.id}::bigint)`);
  return and(...where);
}

/** pages the CSV export reads (server side, never a client's choice) */
export const ACTION_LOG_MAX_EXPORT_PAGE = 1000;

function pageLimit(limit: number | undefined, max: number): number {
  const n = limit ?? ACTION_LOG_DEFAULT_PAGE;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`page size must be 1–${max}`);
  return n;
}

/**
 * The statement of one page (limit + 1 rows, to know whether more follow), not yet run: the
 * benchmark prints its EXPLAIN. Throws for a forged cursor or a page size out of range.
 * With `line` (the export), a row is only that text expression, its id and its cursor `at`.
 */
export function actionLogPageStatement(db: Queryable, scope: ActionLogScope, filter: ActionLogFilter, page: ActionLogPageRequest, line?: SQL<string>) {
  const limit = pageLimit(page.limit, line ? ACTION_LOG_MAX_EXPORT_PAGE : ACTION_LOG_MAX_PAGE);
  let after: ActionLogCursor | null = null;
  if (page.cursor) {
    after = decodeActionLogCursor(page.cursor);
    if (!after) throw new InvalidActionLogCursorError();
  }
  const statement = db
    .select(line ? { id: actionLog.id, cursorAt: atMicros, line } : { ...listColumns, cursorAt: atMicros })
    .from(actionLog)
    .where(conditions(scope, filter, after))
    .orderBy(desc(actionLog.at), desc(actionLog.id))
    .limit(limit + 1);
  return { statement, limit };
}

function selectPage<R extends { id: number; cursorAt: string }>(rows: R[], limit: number) {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return { shown, nextCursor: more && last ? encodeActionLogCursor({ at: last.cursorAt, id: last.id }) : null };
}

/**
 * One page of the Action Log, newest first. A reseller's scope is always its own tenant; support may
 * name a tenant or read across tenants. Throws InvalidActionLogCursorError for a forged cursor and a
 * RangeError for a page size outside 1–200.
 */
export async function queryActionLog(db: Queryable, scope: ActionLogScope, filter: ActionLogFilter = {}, page: ActionLogPageRequest = {}): Promise<ActionLogPage> {
  const { statement, limit } = actionLogPageStatement(db, scope, filter, page);
  const { shown, nextCursor } = selectPage((await statement) as (ActionLogListEntry & { cursorAt: string })[], limit);
  return { entries: shown.map(({ cursorAt: _cursorAt, ...entry }) => entry), nextCursor };
}

/**
 * The pages the CSV export is written from (up to 1,000 rows a page), each row as one text that
 * PostgreSQL builds with `line` (the export's CSV record, lib/log/action-log-csv.ts): no row objects,
 * no Date, no JSON parsed and re-stringified — per row the driver makes one string (and the id and
 * `at` the cursor needs).
 */
export async function queryActionLogLines(db: Queryable, scope: ActionLogScope, filter: ActionLogFilter, page: ActionLogPageRequest, line: SQL<string>): Promise<ActionLogPage<string>> {
  const { statement, limit } = actionLogPageStatement(db, scope, filter, page, line);
  const { shown, nextCursor } = selectPage((await statement) as { id: number; cursorAt: string; line: string }[], limit);
  return { entries: shown.map((row) => row.line), nextCursor };
}

/** The drill-down: one row with its details, or null when it is not in the scope (another tenant's id). */
export async function actionLogEntry(db: Queryable, scope: ActionLogScope, id: number): Promise<ActionLogEntryWithDetails | null> {
  if (!Number.isSafeInteger(id) || id < 1) return null;
  const tenant = scope.kind === "tenant" ? scope.tenantId : scope.tenantId;
  const [row] = await db
    .select({ ...listColumns, details: actionLog.details })
    .from(actionLog)
    .where(tenant ? and(eq(actionLog.id, id), eq(actionLog.tenantId, tenant)) : eq(actionLog.id, id))
    .limit(1);
  return row ?? null;
}
