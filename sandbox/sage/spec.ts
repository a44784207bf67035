// Request validation against Sage's published Swagger 2.0 descriptions (Accounting v3.1 and the
// user/businesses API), converted to OpenAPI 3 with swagger2openapi and checked with openapi-backend.
// The conversion runs once per process, lazily, and Ajv validators compile per operation on first use
// (openapi-backend "quick" mode) — compiling all 287 operations up front takes ~25 s.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import addFormats from "ajv-formats";
import { OpenAPIBackend, type Document } from "openapi-backend";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const requireCjs = createRequire(import.meta.url);

/** Where the reference files live (override with SAGE_SPEC_DIR). */
function specDir(): string {
  if (process.env.SAGE_SPEC_DIR) return process.env.SAGE_SPEC_DIR;
  const candidates = [
    path.resolve(HERE, "../../../shared/reference"),
    path.resolve(HERE, "../../../../shared/reference"),
    "/work/shared/reference",
  ];
  for (const c of candidates) {
    try {
      readFileSync(path.join(c, "sage-accounting-v3.1.openapi.json"), { flag: "r" });
      return c;
    } catch {
      // try next
    }
  }
  throw new Error("Sage reference spec not found (set SAGE_SPEC_DIR)");
}

interface ConvertResult {
  openapi: OpenApiDoc;
}
interface Swagger2OpenApi {
  convertObj(swagger: unknown, options: Record<string, unknown>): Promise<ConvertResult>;
}

type JsonObject = Record<string, unknown>;
interface OpenApiDoc extends JsonObject {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> } & JsonObject;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
// Parameters whose documented formats are wider than the `format: date-time` the spec declares
// (since-filters: "YYYY-MM-DDT(+|-)hh:mm" or a date-time; from_date/to_date: "filter by … dates",
// used with plain dates in Sage's guides). The handlers parse them and answer 400 when unparseable.
const WIDE_DATE_PARAMS = new Set(["updated_or_created_since", "deleted_since", "from_date", "to_date"]);

function isObj(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function patchDocument(doc: OpenApiDoc): void {
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      if (typeof op.operationId !== "string" || op.operationId === "") op.operationId = `${m} ${p}`;
      const params = Array.isArray(op.parameters) ? op.parameters : [];
      for (const param of params) {
        if (isObj(param) && param.in === "query" && WIDE_DATE_PARAMS.has(String(param.name)) && isObj(param.schema)) {
          delete param.schema.format;
        }
      }
    }
  }
}

/** Tagged so a request using them is flagged: the published description does not list them. */
const UNDOCUMENTED = "x-sandbox-undocumented";
const LIST_PARAMS = [
  { in: "query", name: "items_per_page", required: false, schema: { type: "integer", minimum: 1, maximum: 200 }, [UNDOCUMENTED]: true },
  { in: "query", name: "page", required: false, schema: { type: "integer" }, [UNDOCUMENTED]: true },
  { in: "query", name: "attributes", required: false, schema: { type: "string" }, [UNDOCUMENTED]: true },
];

/**
 * The user/businesses description omits the common list/attribute parameters the guides document for
 * the accounting API. The sandbox still answers them (as the guides say Sage does), but flags every
 * request that uses them (`undocumented_params` in the request log, `x-sandbox-undocumented-params`
 * header): a client should not rely on what the description lacks.
 */
function patchBusinessesDocument(doc: OpenApiDoc): void {
  const list = doc.paths["/businesses"]?.get;
  if (isObj(list)) list.parameters = [...(Array.isArray(list.parameters) ? list.parameters : []), ...LIST_PARAMS];
  const one = doc.paths["/businesses/{key}"]?.get;
  if (isObj(one)) one.parameters = [...(Array.isArray(one.parameters) ? one.parameters : []), LIST_PARAMS[2]];
  const user = doc.paths["/user"]?.get;
  if (isObj(user)) user.parameters = [...(Array.isArray(user.parameters) ? user.parameters : []), LIST_PARAMS[2]];
}

async function buildBackend(): Promise<OpenAPIBackend> {
  const dir = specDir();
  const s2o = requireCjs("swagger2openapi") as Swagger2OpenApi;
  const load = (file: string): unknown => JSON.parse(readFileSync(path.join(dir, file), "utf8")) as unknown;
  const [accounting, businesses] = await Promise.all([
    s2o.convertObj(load("sage-accounting-v3.1.openapi.json"), { patch: true, warnOnly: true }),
    s2o.convertObj(load("sage-accounting-v3.1-user-businesses.openapi.json"), { patch: true, warnOnly: true }),
  ]);
  const doc = accounting.openapi;
  const biz = businesses.openapi;
  patchBusinessesDocument(biz);
  Object.assign(doc.paths, biz.paths);
  doc.components = doc.components ?? {};
  doc.components.schemas = { ...(doc.components.schemas ?? {}), ...(biz.components?.schemas ?? {}) };
  patchDocument(doc);
  const api = new OpenAPIBackend({
    definition: doc as unknown as Document,
    apiRoot: "/v3.1",
    quick: true,
    validate: true,
    coerceTypes: true,
    ajvOpts: { allErrors: true, strict: false },
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  });
  await api.init();
  // The definition never changes after init, but openapi-backend's router rebuilds its flat list of
  // the 287 operations (with lodash) on every match and parse — about 1 ms a request under load.
  // Computed once here; the list itself is what the router would compute.
  const operations = api.router.getOperations();
  api.router.getOperations = () => operations;
  return api;
}

let backendPromise: Promise<OpenAPIBackend> | null = null;

/** Starts (or reuses) the one-per-process conversion. */
export function specBackend(): Promise<OpenAPIBackend> {
  if (!backendPromise) {
    backendPromise = buildBackend();
    backendPromise.catch(() => {
      backendPromise = null;
    });
  }
  return backendPromise;
}

export interface SpecIssue {
  /** "body" | "query" | "path" | "header" */
  location: string;
  /** Sage-style field path: "contact.name", "invoice_lines.unit_price", "items_per_page". */
  field: string;
  message: string;
}

export interface SpecResult {
  operationId: string | null;
  valid: boolean;
  issues: SpecIssue[];
  /** Body attributes the spec does not describe (allowed; reported in the request log). */
  unknownAttributes: string[];
  /** Query parameters the published description does not list for this operation (flagged). */
  undocumentedParams: string[];
}

/** Query parameter names the operation's published description lacks (declared nowhere, or only by the sandbox's patch). */
function undocumentedParams(operation: unknown, query: Record<string, string>): string[] {
  const params = isObj(operation) && Array.isArray(operation.parameters) ? operation.parameters : [];
  const documented = new Set(params.filter((p) => isObj(p) && p.in === "query" && !p[UNDOCUMENTED]).map((p) => String((p as JsonObject).name)));
  return Object.keys(query).filter((name) => !documented.has(name));
}

/** Body attributes not described by the schema (the spec does not forbid them; Sage ignores them). */
function unknownAttributes(schema: unknown, value: unknown, at: string, out: string[], depth = 0): void {
  if (depth > 6 || !isObj(schema)) return;
  if (Array.isArray(value)) {
    const items = schema.items;
    for (const v of value) unknownAttributes(items, v, at, out, depth + 1);
    return;
  }
  if (!isObj(value) || !isObj(schema.properties)) return;
  const props = schema.properties;
  for (const [k, v] of Object.entries(value)) {
    const path = at ? `${at}.${k}` : k;
    if (!(k in props)) {
      if (k !== "idempotency_id" && !out.includes(path)) out.push(path);
      continue;
    }
    unknownAttributes(props[k], v, path, out, depth + 1);
  }
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function toIssue(e: AjvLikeError): SpecIssue {
  const parts = (e.instancePath ?? "").split("/").filter(Boolean);
  const where = parts.shift() ?? "";
  const location = where === "requestBody" ? "body" : where || "request";
  const fieldParts = parts.filter((p) => !/^\d+$/.test(p));
  const missing = e.params?.missingProperty;
  if (typeof missing === "string") fieldParts.push(missing);
  const extra = e.params?.additionalProperty;
  if (typeof extra === "string") fieldParts.push(extra);
  let message = e.message ?? "is invalid";
  if (e.keyword === "required") message = "is required";
  if (e.keyword === "additionalProperties") message = "is not a known parameter";
  return { location, field: fieldParts.join("."), message };
}

export async function validateAgainstSpec(req: {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
}): Promise<SpecResult> {
  const api = await specBackend();
  const request = {
    method: req.method.toLowerCase(),
    path: req.path,
    query: { ...req.query },
    headers: req.headers,
    body: req.body,
  };
  const operation = api.router.matchOperation(request);
  if (!operation) return { operationId: null, valid: true, issues: [], unknownAttributes: [], undocumentedParams: [] };
  const result = api.validator.validateRequest(request, operation);
  const errors = (result.errors ?? []) as AjvLikeError[];
  const issues = errors.map(toIssue);
  const unknown: string[] = [];
  const rb = (operation as { requestBody?: unknown }).requestBody;
  if (isObj(rb) && isObj(rb.content) && isObj(rb.content["application/json"])) {
    unknownAttributes(rb.content["application/json"].schema, req.body, "", unknown);
  }
  return { operationId: operation.operationId ?? null, valid: issues.length === 0, issues, unknownAttributes: unknown, undocumentedParams: undocumentedParams(operation, req.query) };
}

/** Whether the published spec describes this operation at all (for "not simulated" answers). */
export async function specKnows(method: string, apiPath: string): Promise<string | null> {
  const api = await specBackend();
  const op = api.router.matchOperation({ method: method.toLowerCase(), path: apiPath, headers: {}, query: {} });
  return op ? (op.operationId ?? `${method} ${apiPath}`) : null;
}
