// Response conformance helpers: Sage's published Swagger 2.0 descriptions (converted to OpenAPI 3 with
// swagger2openapi, once per process) compiled into Ajv validators per operation + status code, on first
// use. Independent of the sandbox's own request validation (sandbox/sage/spec.ts): nothing is imported
// from the sandbox here, so a bug there cannot hide a bug here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const requireCjs = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------------
// OAuth over HTTP (the real consent → decision → token dance)

export const CLIENT_ID = "sage-connector-demo";
export const CLIENT_SECRET = "sandbox-client-secret";
export const APP_URL = "http://localhost:3000";
export const REDIRECT_URI = `${APP_URL}/oauth2redirect`;

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  requested_by_id: string;
}

/** Consent page → Allow as `userLabelPrefix` → code → token. Throws with the step that failed. */
export async function obtainAccessToken(base: string, userLabelPrefix = "Alex Morgan"): Promise<TokenResponse> {
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT_URI,
    scope: "full_access",
    state: "x",
  });
  const page = await fetch(`${base}/sage/oauth2/auth/central?${q.toString()}`, { redirect: "manual" });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page: ${page.status}`);
  const requestId = /<input[^>]*name="request_id"[^>]*value="([^"]+)"/.exec(html)?.[1];
  if (!requestId) throw new Error("consent page: no hidden request_id");
  let user: string | undefined;
  for (const m of html.matchAll(/<input[^>]*type="radio"[^>]*name="user"[^>]*id="([^"]+)"[^>]*value="([^"]+)"[^>]*>\s*<label for="([^"]+)">([^<]*)<\/label>/g)) {
    if (m[1] === m[3] && (m[4] ?? "").startsWith(userLabelPrefix)) user = m[2];
  }
  if (!user) throw new Error(`consent page: no radio for ${userLabelPrefix}`);

  const decision = await fetch(`${base}/sage/oauth2/auth/central/decision`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ request_id: requestId, user, decision: "allow" }),
    redirect: "manual",
  });
  const location = decision.headers.get("location");
  if (decision.status !== 302 || !location) throw new Error(`decision: ${decision.status}`);
  const code = new URL(location).searchParams.get("code");
  if (!code) throw new Error(`decision: no code in ${location}`);

  const token = await fetch(`${base}/sage/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    }),
  });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${await token.text()}`);
  const t = (await token.json()) as TokenResponse;
  if (typeof t.access_token !== "string" || t.access_token === "") throw new Error("token: no access_token");
  return t;
}

// ---------------------------------------------------------------------------------------------------
// The spec

type JsonObject = Record<string, unknown>;
export function isObj(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

interface OpenApiDoc extends JsonObject {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> } & JsonObject;
}
interface Swagger2OpenApi {
  convertObj(swagger: unknown, options: Record<string, unknown>): Promise<{ openapi: OpenApiDoc }>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

function specDir(): string {
  const candidates = [process.env.SAGE_SPEC_DIR, path.resolve(process.cwd(), "../shared/reference"), "/work/shared/reference"];
  for (const c of candidates) {
    if (!c) continue;
    try {
      readFileSync(path.join(c, "sage-accounting-v3.1.openapi.json"), { flag: "r" });
      return c;
    } catch {
      // next
    }
  }
  throw new Error("Sage reference spec not found (set SAGE_SPEC_DIR)");
}

export interface SpecFacts {
  /** `x-nullable: true` occurrences mapped to JSON Schema nullability. */
  xNullable: number;
  /** `nullable: true` occurrences (OAS3) mapped to JSON Schema nullability. */
  nullable: number;
  /** Formats the spec uses that neither Ajv nor ajv-formats knows (accepted as-is, listed here). */
  unknownFormats: string[];
}

/**
 * OpenAPI 3 `nullable` / Swagger `x-nullable` → JSON Schema: `type: [t, "null"]` (and `null` added to an
 * `enum`); for a `$ref` (which cannot carry siblings) `anyOf: [{$ref}, {type: "null"}]`.
 */
export function mapNullability(node: unknown, facts: SpecFacts): unknown {
  if (Array.isArray(node)) return node.map((n) => mapNullability(n, facts));
  if (!isObj(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = mapNullability(v, facts);
  const xn = out["x-nullable"] === true;
  const n = out.nullable === true;
  if (!xn && !n) return out;
  if (xn) facts.xNullable++;
  if (n) facts.nullable++;
  delete out["x-nullable"];
  delete out.nullable;
  if (typeof out.$ref === "string") {
    const ref = out.$ref;
    delete out.$ref;
    return { ...out, anyOf: [{ $ref: ref }, { type: "null" }] };
  }
  if (typeof out.type === "string") out.type = [out.type, "null"];
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}

function collectFormats(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectFormats(n, into);
    return;
  }
  if (!isObj(node)) return;
  if (typeof node.format === "string" && (typeof node.type === "string" || Array.isArray(node.type))) into.add(node.format);
  for (const v of Object.values(node)) collectFormats(v, into);
}

const SPEC_ID = "sage-v3.1";

export interface ConformanceSpec {
  doc: OpenApiDoc;
  ajv: Ajv;
  facts: SpecFacts;
  ms: number;
}

async function buildSpec(): Promise<ConformanceSpec> {
  const t0 = Date.now();
  const dir = specDir();
  const s2o = requireCjs("swagger2openapi") as Swagger2OpenApi;
  const load = (file: string): unknown => JSON.parse(readFileSync(path.join(dir, file), "utf8")) as unknown;
  const [accounting, users] = await Promise.all([
    s2o.convertObj(load("sage-accounting-v3.1.openapi.json"), { patch: true, warnOnly: true }),
    s2o.convertObj(load("sage-accounting-v3.1-user-businesses.openapi.json"), { patch: true, warnOnly: true }),
  ]);
  const facts: SpecFacts = { xNullable: 0, nullable: 0, unknownFormats: [] };
  const acc = mapNullability(accounting.openapi, facts) as OpenApiDoc;
  const usr = mapNullability(users.openapi, facts) as OpenApiDoc;
  // One document: the user/businesses description's paths and schemas next to the accounting ones.
  // Only `/businesses`, `/businesses/{key}` and `/user` come from it; schema names must not clash.
  const accSchemas = acc.components?.schemas ?? {};
  for (const name of Object.keys(usr.components?.schemas ?? {})) {
    if (name in accSchemas) throw new Error(`schema name clash between the two descriptions: ${name}`);
  }
  const doc: OpenApiDoc = {
    ...acc,
    paths: { ...acc.paths, ...usr.paths },
    components: { ...acc.components, schemas: { ...accSchemas, ...(usr.components?.schemas ?? {}) } },
  };
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (isObj(op) && (typeof op.operationId !== "string" || op.operationId === "")) op.operationId = `${m} ${p}`;
    }
  }

  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, addUsedSchema: false });
  addFormats(ajv);
  const used = new Set<string>();
  collectFormats(doc, used);
  for (const f of [...used].sort()) {
    if (!ajv.formats[f]) {
      facts.unknownFormats.push(f);
      ajv.addFormat(f, true);
    }
  }
  // The whole document as one schema resource: `#/components/schemas/X` refs resolve inside it, and
  // Ajv compiles only what a response schema reaches, on first use.
  ajv.addSchema({ $id: SPEC_ID, ...doc } as JsonObject, undefined, undefined, false);
  return { doc, ajv, facts, ms: Date.now() - t0 };
}

let specPromise: Promise<ConformanceSpec> | null = null;
export function conformanceSpec(): Promise<ConformanceSpec> {
  specPromise ??= buildSpec();
  return specPromise;
}

function pointerEscape(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

export interface DeclaredResponse {
  operationId: string;
  /** JSON pointer of the schema inside the converted document. */
  pointer: string;
  schema: JsonObject;
}

/** The JSON response schema the spec declares for `method path` answering `status`, or null. */
export function declaredResponse(spec: ConformanceSpec, method: string, specPath: string, status: number): DeclaredResponse | null {
  const m = method.toLowerCase();
  const op = spec.doc.paths[specPath]?.[m];
  if (!isObj(op)) return null;
  const responses = op.responses;
  if (!isObj(responses)) return null;
  const res = responses[String(status)];
  if (!isObj(res) || !isObj(res.content)) return null;
  const media = res.content["application/json"];
  if (!isObj(media) || !isObj(media.schema)) return null;
  return {
    operationId: String(op.operationId),
    pointer: `#/paths/${pointerEscape(specPath)}/${m}/responses/${status}/content/${pointerEscape("application/json")}/schema`,
    schema: media.schema,
  };
}

const compiled = new Map<string, ValidateFunction>();
/** Compiles (once) the schema at `pointer` (a `#/…` JSON pointer into the converted document). */
export function validatorAt(spec: ConformanceSpec, pointer: string): ValidateFunction {
  let v = compiled.get(pointer);
  if (!v) {
    v = spec.ajv.compile({ $ref: `${SPEC_ID}${pointer}` });
    compiled.set(pointer, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Judging a body

export interface Mismatch {
  /** JSON pointer into the response body, e.g. `/invoice_lines/0/tax_rate/id`. */
  path: string;
  message: string;
  value: unknown;
}

export interface Verdict {
  mismatches: Mismatch[];
  /**
   * Object properties that are `null` in the body although the spec does not declare them nullable.
   * The spec declares no nullability at all (no `x-nullable`), yet documents null answers (e.g.
   * Contact.credit_days: "If returned as null in a GET response, …"), and Sage answers unset
   * attributes with `null`. These are tolerated and reported, not counted as mismatches — but only
   * for object properties: a `null` body, array item or a value of the wrong non-null type still fails.
   */
  nullProperties: string[];
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObj(cur)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

function isPropertyPointer(pointer: string): boolean {
  const last = pointer.split("/").pop() ?? "";
  return pointer !== "" && !/^\d+$/.test(last);
}

export function judge(validate: ValidateFunction, body: unknown): Verdict {
  const ok = validate(body);
  if (ok) return { mismatches: [], nullProperties: [] };
  const mismatches: Mismatch[] = [];
  const nulls = new Set<string>();
  for (const e of (validate.errors ?? []) as ErrorObject[]) {
    const value = valueAt(body, e.instancePath);
    if (value === null && isPropertyPointer(e.instancePath) && (e.keyword === "type" || e.keyword === "enum" || e.keyword === "format")) {
      nulls.add(e.instancePath);
      continue;
    }
    mismatches.push({ path: e.instancePath || "(body)", message: `${e.message ?? e.keyword} [${e.schemaPath}]`, value });
  }
  return { mismatches, nullProperties: [...nulls].sort() };
}

export function formatMismatches(label: string, ms: Mismatch[]): string {
  return ms.map((m) => `${label} ${m.path}: ${m.message} (got ${JSON.stringify(m.value)?.slice(0, 80)})`).join("\n");
}

/** Body property names (dotted, array indices as `[]`) the schema does not describe — informational. */
export function undocumentedProperties(spec: ConformanceSpec, schema: unknown, value: unknown, at = "", out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 12) return out;
  let s = schema;
  for (let i = 0; i < 5 && isObj(s) && typeof s.$ref === "string"; i++) s = valueAt(spec.doc, s.$ref.slice(1));
  if (isObj(s) && Array.isArray(s.anyOf)) s = s.anyOf.find((x) => isObj(x) && typeof x.$ref === "string") ?? s;
  for (let i = 0; i < 5 && isObj(s) && typeof s.$ref === "string"; i++) s = valueAt(spec.doc, s.$ref.slice(1));
  if (!isObj(s)) return out;
  if (Array.isArray(value)) {
    for (const v of value) undocumentedProperties(spec, s.items, v, `${at}[]`, out, depth + 1);
    return out;
  }
  if (!isObj(value) || !isObj(s.properties)) return out;
  for (const [k, v] of Object.entries(value)) {
    const p = at ? `${at}.${k}` : k;
    if (!(k in s.properties)) out.add(p);
    else undocumentedProperties(spec, s.properties[k], v, p, out, depth + 1);
  }
  return out;
}
