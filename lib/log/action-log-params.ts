import { z } from "zod";
import { ACTOR_TYPES, LOG_CATEGORIES, LOG_LEVELS } from "@/db/schema/action-log";
import { ACTION_LOG_DEFAULT_PAGE, ACTION_LOG_MAX_PAGE, decodeActionLogCursor, type ActionLogFilter } from "./action-log-query";

/**
 * The Action Log's query string, shared by the list (`GET /api/action-log`) and the CSV export
 * (`GET /api/action-log/export`):
 *
 *   level=error,warning (or level=error&level=warning) · category=sync,auth · actorType=user|support|system|marketplace
 *   actor=<part of the actor's label> · from=<ISO date-time, inclusive> · to=<ISO date-time, exclusive>
 *   q=<part of the message> · limit=1–200 (list only) · cursor=<nextCursor of the previous page> (list only)
 *
 *   tenant=<tenant id> (support only; a reseller always reads their own log)
 *
 * Every value is checked: an unknown level, a date that is not one, a forged cursor → a 400 naming it.
 */

const storableText = (name: string, max: number) =>
  z
    .string()
    .trim()
    .max(max, `${name} must be at most ${max} characters`)
    .refine((s) => !s.includes("\u0000"), `${name} must not contain U+0000`)
    .optional()
    .transform((s) => (s ? s : undefined));

const list = <T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z
    .array(z.string())
    .optional()
    .transform((raw) => [...new Set((raw ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean))])
    .pipe(z.array(z.enum(values, { error: (issue) => `${name} must be one of ${values.join(", ")} (got "${String(issue.input)}")` })))
    .transform((v) => (v.length ? (v as T[number][]) : undefined));

const dateTime = (name: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      // an ISO 8601 date or date-time (with a zone offset or Z); nothing looser
      const d = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s) ? new Date(s) : new Date(NaN);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: "custom", message: `${name} must be an ISO 8601 date-time such as 2026-12-01T00:00:00Z (got "${s.slice(0, 40)}")` });
        return z.NEVER;
      }
      return d;
    });

const filterShape = {
  /** support only: one tenant's log (a reseller always reads their own; the value is ignored for them) */
  tenant: z.string().uuid("tenant must be a tenant id (UUID)").optional(),
  level: list("level", LOG_LEVELS),
  category: list("category", LOG_CATEGORIES),
  actorType: z.enum(ACTOR_TYPES, { error: `actorType must be one of ${ACTOR_TYPES.join(", ")}` }).optional(),
  actor: storableText("actor", 200),
  from: dateTime("from"),
  to: dateTime("to"),
  q: storableText("q", 200),
};

const pageShape = {
  limit: z.coerce
    .number({ error: `limit must be a whole number 1–${ACTION_LOG_MAX_PAGE}` })
    .int(`limit must be a whole number 1–${ACTION_LOG_MAX_PAGE}`)
    .min(1, `limit must be a whole number 1–${ACTION_LOG_MAX_PAGE}`)
    .max(ACTION_LOG_MAX_PAGE, `limit must be a whole number 1–${ACTION_LOG_MAX_PAGE}`)
    .default(ACTION_LOG_DEFAULT_PAGE),
  cursor: z
    .string()
    .optional()
    .refine((c) => !c || decodeActionLogCursor(c) !== null, "cursor is not one this Action Log gave out (use nextCursor of the previous page)"),
};

const unknownParameter = (allowed: string[]) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === "unrecognized_keys" ? `unknown parameter ${issue.keys?.join(", ")} (known: ${allowed.join(", ")})` : undefined;

const fromBeforeTo = (p: { from?: Date; to?: Date }) => !p.from || !p.to || p.from < p.to;

/** The export's parameters: the filters only. */
export const actionLogFilterParams = z
  .object(filterShape, { error: unknownParameter(Object.keys(filterShape)) })
  .strict()
  .refine(fromBeforeTo, { message: "from must be before to", path: ["from"] });

/** The list's parameters: the filters and the page. */
export const actionLogListParams = z
  .object({ ...filterShape, ...pageShape }, { error: unknownParameter([...Object.keys(filterShape), ...Object.keys(pageShape)]) })
  .strict()
  .refine(fromBeforeTo, { message: "from must be before to", path: ["from"] });

const MULTI = new Set(["level", "category"]);

/** URLSearchParams → the object the schemas read (level/category may repeat; other keys: the last one). */
export function searchParamsObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) out[key] = MULTI.has(key) ? params.getAll(key) : params.getAll(key).at(-1)!;
  return out;
}

/** One readable sentence from a zod error: "level must be one of …; from must be …". */
export function describeParamError(error: z.ZodError): string {
  return [...new Set(error.issues.map((i) => i.message))].join("; ");
}

export function filterFromParams(p: z.infer<typeof actionLogFilterParams>): ActionLogFilter {
  return { levels: p.level, categories: p.category, actorType: p.actorType, actor: p.actor, from: p.from, to: p.to, text: p.q };
}
