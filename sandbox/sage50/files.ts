// Downloads (Sage 50 → app): the latest file per scope of the key's company, with the full data.
// Facts (SAGE-FACTS.md §3 "Downloads"): one file per scope (Products, Customers…), only the latest
// version kept, the app notified each time a file is updated. Paths and payloads are the contract's.
import { isRecord, json, type Reply } from "../http";
import { controlBody, route, type RequestContext, type Route } from "../router";
import { authenticate } from "./apikeys";
import { fail } from "./replies";
import type { Record50 } from "./seed";
import { FILE_SCOPES, iso, type Company, type FileScope, type ScopeFile } from "./state";

export function fileScope(name: string | undefined): FileScope | undefined {
  const lower = (name ?? "").toLowerCase();
  return FILE_SCOPES.find((s) => s.toLowerCase() === lower);
}

function listFiles(ctx: RequestContext): Reply {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.reply;
  const files = FILE_SCOPES.map((scope) => {
    const f = auth.company.files[scope];
    return { scope, fileId: f.fileId, updatedAt: iso(f.updatedMs), downloadUrl: `${ctx.origin}/sage50/api/files/${scope}` };
  });
  return json(200, { files });
}

function getFile(ctx: RequestContext): Reply {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.reply;
  const scope = fileScope(ctx.params.scope);
  if (!scope) return fail(404, "unknown_scope", `Scopes: ${FILE_SCOPES.join(", ")}`);
  const f = auth.company.files[scope];
  return json(200, { scope, fileId: f.fileId, generatedAt: iso(f.updatedMs), records: f.records });
}

/** Tells every application holding a key for the company that a file changed (in the background). */
export function notifyFileUpdated(ctx: RequestContext, company: Company, file: ScopeFile): void {
  const w = ctx.sb.sage50;
  const payload = { type: "file.updated", scope: file.scope, fileId: file.fileId, updatedAt: iso(file.updatedMs), companyId: company.id };
  const appIds = new Set([...w.apiKeys.values()].filter((k) => k.companyId === company.id).map((k) => k.applicationId));
  for (const id of appIds) {
    const app = w.applications.get(id);
    if (app) ctx.sb.sage50Calls.notify(app, payload);
  }
}

function recordList(v: unknown, field: string): Record50[] | string {
  if (!Array.isArray(v)) return `${field} must be an array of records`;
  for (const [i, r] of v.entries()) {
    if (!isRecord(r) || typeof r.id !== "string" || r.id === "") return `${field}[${i}] must be an object with a string id`;
  }
  return v as Record50[];
}

/** Control: replace a scope file ({ records }) or change it ({ add, remove }); a new version + a notification. */
function changeFile(ctx: RequestContext): Reply {
  const w = ctx.sb.sage50;
  const company = w.companies.get(ctx.params.companyId ?? "");
  if (!company) return fail(404, "unknown_company");
  const scope = fileScope(ctx.params.scope);
  if (!scope) return fail(404, "unknown_scope", `Scopes: ${FILE_SCOPES.join(", ")}`);
  const body = controlBody(ctx);
  let records: Record50[];
  if (body.records !== undefined) {
    const list = recordList(body.records, "records");
    if (typeof list === "string") return fail(400, "bad_request", list);
    records = list;
  } else if (body.add !== undefined || body.remove !== undefined) {
    const add = recordList(body.add ?? [], "add");
    if (typeof add === "string") return fail(400, "bad_request", add);
    const remove = body.remove ?? [];
    if (!Array.isArray(remove) || !remove.every((r) => typeof r === "string")) return fail(400, "bad_request", "remove must be an array of ids");
    // an added record whose id exists replaces it in place; the others are appended
    const removed = new Set(remove as string[]);
    const added = new Map(add.map((r) => [r.id, r]));
    const kept = company.files[scope].records.filter((r) => !removed.has(r.id)).map((r) => added.get(r.id) ?? r);
    const keptIds = new Set(kept.map((r) => r.id));
    records = [...kept, ...add.filter((r) => !keptIds.has(r.id))];
  } else {
    return fail(400, "bad_request", "expected { records: [...] } or { add?: [...], remove?: [ids] }");
  }
  const file = w.replaceFile(company, scope, records);
  notifyFileUpdated(ctx, company, file);
  return json(200, { scope, fileId: file.fileId, updatedAt: iso(file.updatedMs), records: file.records.length });
}

export const fileRoutes: Route[] = [
  route("GET", "/sage50/api/files", "sage50.files.list", listFiles),
  route("GET", "/sage50/api/files/:scope", "sage50.files.get", getFile),
];

export const fileControlRoutes = (prefix: string): Route[] => [
  route("POST", `${prefix}/companies/:companyId/files/:scope`, "control.sage50.files.change", changeFile, { control: true }),
];
