// Shared pieces for the Accounting resources: refs, timestamps, list filters, field errors, body access.
import { isRecord, json, sageErrors, type Reply, type SageError } from "../../http";
import { jsonOf, type RequestContext } from "../../router";
import type { BusinessData, Rec } from "../data";
import { sageTimestamp } from "../world";
import { paginate, selectAttributes } from "./paging";

export interface Ref {
  id: string;
  displayed_as: string;
  $path: string;
}

export function ref(id: string, displayed_as: string, path: string): Ref {
  return { id, displayed_as, $path: path };
}

export function ts(ms: number | null): string | null {
  return ms === null ? null : sageTimestamp(ms);
}

/** Collects 422 RecordInvalid errors; `$source` names the field. */
export class FieldErrors {
  readonly list: SageError[] = [];
  add(source: string, message: string, dataCode = "RecordInvalid"): void {
    this.list.push({ $severity: "error", $dataCode: dataCode, $message: message, $source: source });
  }
  get any(): boolean {
    return this.list.length > 0;
  }
  reply(status = 422): Reply {
    return sageErrors(status, this.list);
  }
}

export function invalid(source: string, message: string, status = 422): Reply {
  const e = new FieldErrors();
  e.add(source, message);
  return e.reply(status);
}

export function invalidParam(source: string, message: string): Reply {
  const e = new FieldErrors();
  e.add(source, message, "InvalidParameter");
  return e.reply(400);
}

export function notFound(source = "key"): Reply {
  const e = new FieldErrors();
  e.add(source, "Couldn't find record.", "RecordNotFound");
  return e.reply(404);
}

/**
 * `updated_or_created_since` / `deleted_since` accept a date with an offset ("YYYY-MM-DDT(+|-)hh:mm",
 * midnight at that offset), a date-time ("YYYY-MM-DDThh:mm:ss(+|-)hh:mm" or "…Z"), or a plain date.
 * Returns epoch ms, or null when unparseable.
 */
export function parseSince(value: string): number | null {
  const v = value.trim();
  let m = /^(\d{4}-\d{2}-\d{2})$/.exec(v);
  if (m) return Date.parse(`${m[1]}T00:00:00Z`);
  m = /^(\d{4}-\d{2}-\d{2})T([+-]\d{2}:\d{2})$/.exec(v);
  if (m) return Date.parse(`${m[1]}T00:00:00${m[2]}`);
  m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (m) {
    const zone = m[2] ?? "Z";
    const normal = /^[+-]\d{4}$/.test(zone) ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
    const t = Date.parse(`${m[1]}${normal}`);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

export interface ListOptions<T extends Rec> {
  ctx: RequestContext;
  data: BusinessData;
  /** Live and deleted records of the resource, in creation order. */
  live: T[];
  deleted?: T[];
  resourcePath: string;
  render: (r: T) => Record<string, unknown>;
  /** Resource-specific filter applied to live records. */
  filter?: (r: T) => boolean;
  sort?: (a: T, b: T) => number;
  supportsDeletedSince?: boolean;
}

/** Generic list: since-filters, resource filter, sort, attributes, paging envelope. */
export function listReply<T extends Rec>(o: ListOptions<T>): Reply {
  const q = o.ctx.query;
  let records: T[];
  if (q.deleted_since !== undefined && o.supportsDeletedSince !== false) {
    const since = parseSince(q.deleted_since);
    if (since === null) return invalidParam("deleted_since", "is not a valid date or date-time");
    // Not inclusive of the passed timestamp.
    records = (o.deleted ?? []).filter((r) => r.deletedMs !== null && r.deletedMs > since);
  } else {
    records = o.live.slice();
    if (o.filter) records = records.filter(o.filter);
  }
  if (q.updated_or_created_since !== undefined) {
    const since = parseSince(q.updated_or_created_since);
    if (since === null) return invalidParam("updated_or_created_since", "is not a valid date or date-time");
    // Inclusive of the passed timestamp.
    records = records.filter((r) => r.updatedMs >= since || r.createdMs >= since);
  }
  if (o.sort) records.sort(o.sort);
  const items = records.map((r) => {
    const full = o.render(r);
    const item = selectAttributes(full, q.attributes);
    if (r.deletedMs !== null) item.deleted_at = ts(r.deletedMs);
    return item;
  });
  return json(200, paginate(items, o.resourcePath, q));
}

export type BodyResult = { ok: true; body: Record<string, unknown> } | { ok: false; reply: Reply };

/** The resource object inside its namespace, e.g. body.sales_invoice. */
export function wrapped(ctx: RequestContext, wrapper: string): BodyResult {
  const parsed = jsonOf(ctx);
  if (!parsed.ok) return { ok: false, reply: invalid("", `The request body is not valid JSON: ${parsed.error}`, 400) };
  const v = parsed.value;
  if (!isRecord(v) || !isRecord(v[wrapper])) {
    return { ok: false, reply: invalid(wrapper, `param is missing or the value is empty: ${wrapper}`) };
  }
  return { ok: true, body: v[wrapper] };
}

export function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

export function nonEmpty(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

export function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function bool(v: unknown): boolean | null {
  return typeof v === "boolean" ? v : null;
}

export function has(o: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
}

export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isValidDate(v: string): boolean {
  if (!DATE_RE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function parseSort(
  value: string | undefined,
  allowed: string[],
): { ok: true; field: string | null; desc: boolean } | { ok: false; reply: Reply } {
  if (value === undefined || value === "") return { ok: true, field: null, desc: false };
  const [field, dir] = value.split(":");
  if (!field || !allowed.includes(field) || (dir !== undefined && dir !== "asc" && dir !== "desc")) {
    return { ok: false, reply: invalidParam("sort", `must be one of ${allowed.join(", ")} optionally followed by :asc or :desc`) };
  }
  return { ok: true, field, desc: dir === "desc" };
}
