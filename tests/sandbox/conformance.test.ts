// Conformance of the sandbox's RESPONSES with Sage's published description (Accounting v3.1 +
// user/businesses, Swagger 2.0 → OpenAPI 3 via swagger2openapi) where it declares a response schema, and
// with the documented paging envelope (SAGE-FACTS §1.6) and error array (§1.7) where it does not.
// Everything goes over HTTP with a real access token from the consent → decision → token flow.
import Ajv, { type ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type RunningSandbox } from "@/sandbox/server";
import {
  APP_URL,
  CLIENT_ID,
  CLIENT_SECRET,
  conformanceSpec,
  declaredResponse,
  formatMismatches,
  isObj,
  judge,
  mapNullability,
  obtainAccessToken,
  undocumentedProperties,
  validatorAt,
  type ConformanceSpec,
} from "./conformance-helpers";

type Json = Record<string, unknown>;

let sb: RunningSandbox;
let base: string;
let token: string;
let spec: ConformanceSpec;
/** GB lead business of Alex Morgan (sent as X-Business explicitly). */
let business: string;
let salesLedger: string;
let expensesLedger: string;

/** What was validated, for the summary printed at the end. */
const validated: string[] = [];
const nullsSeen = new Map<string, Set<string>>();
const undocumented = new Map<string, Set<string>>();
const absent = new Map<string, Set<string>>();

async function call(method: string, path: string, body?: unknown, opts: { auth?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.auth !== false) headers.authorization = `Bearer ${token}`;
  if (business) headers["x-business"] = business;
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${base}/sage/v3.1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function jsonOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${res.status} response is not JSON: ${text.slice(0, 200)}`);
  }
}

function note(map: Map<string, Set<string>>, label: string, items: Iterable<string>): void {
  const set = map.get(label) ?? new Set<string>();
  for (const i of items) set.add(i);
  if (set.size > 0) map.set(label, set);
}

/**
 * The core check: the answer has the expected status, the spec declares a JSON schema for this
 * operation + status, and the body validates against it (nulls on object properties tolerated and noted).
 */
async function expectConforms(res: Response, method: string, specPath: string, status: number): Promise<Json> {
  const raw = await jsonOf(res);
  expect(res.status, `${method} ${specPath}: ${JSON.stringify(raw).slice(0, 300)}`).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const declared = declaredResponse(spec, method, specPath, status);
  expect(declared, `spec declares no JSON response schema for ${method} ${specPath} ${status}`).not.toBeNull();
  if (!declared) throw new Error("unreachable");
  const label = `${method.toUpperCase()} ${specPath} ${status} (${declared.operationId})`;
  const verdict = judge(validatorAt(spec, declared.pointer), raw);
  expect(verdict.mismatches, formatMismatches(label, verdict.mismatches)).toEqual([]);
  note(nullsSeen, label, verdict.nullProperties);
  note(undocumented, label, undocumentedProperties(spec, declared.schema, raw));
  expect(isObj(raw), `${label}: body is not an object`).toBe(true);
  const body = raw as Json;
  // The spec lists no `required` response properties, so `{}` would validate: insist on the identity
  // attributes every Sage record carries (best-practices/pagination examples) where the schema declares them.
  const declaredProps = declaredProperties(declared.schema);
  for (const p of ["id", "displayed_as", "$path"]) {
    if (declaredProps.includes(p)) expect(typeof body[p], `${label}: ${p}`).toBe("string");
  }
  note(absent, label, declaredProps.filter((p) => !(p in body)));
  validated.push(label);
  return body;
}

/** Top-level property names of a (possibly `$ref`) object schema in the converted document. */
function declaredProperties(schema: Json): string[] {
  let s: unknown = schema;
  for (let i = 0; i < 5 && isObj(s) && typeof s.$ref === "string"; i++) {
    s = s.$ref
      .slice(2)
      .split("/")
      .reduce<unknown>((o, k) => (isObj(o) ? o[k.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), spec.doc);
  }
  return isObj(s) && isObj(s.properties) ? Object.keys(s.properties) : [];
}

// ---------------------------------------------------------------------------------------------------
// Documented shapes the spec does not model (compiled once, with a plain Ajv)

const plainAjv = new Ajv({ strict: true, allErrors: true });
const relativeOrNull = { anyOf: [{ type: "string", pattern: "^/[a-z_]+(\\?[^\\s]*)?$" }, { type: "null" }] };
const envelopeValidator: ValidateFunction = plainAjv.compile({
  type: "object",
  required: ["$total", "$page", "$next", "$back", "$itemsPerPage", "$items"],
  properties: {
    $total: { type: "integer", minimum: 0 },
    $page: { type: "integer", minimum: 1 },
    $next: relativeOrNull,
    $back: relativeOrNull,
    $itemsPerPage: { type: "integer", minimum: 1, maximum: 200 },
    $items: { type: "array" },
  },
});
const errorArrayValidator: ValidateFunction = plainAjv.compile({
  type: "array",
  minItems: 1,
  items: {
    type: "object",
    required: ["$severity", "$dataCode", "$message", "$source"],
    properties: {
      $severity: { type: "string", minLength: 1 },
      $dataCode: { type: "string", minLength: 1 },
      $message: { type: "string", minLength: 1 },
      $source: { type: "string" },
    },
    additionalProperties: false,
  },
});

function ajvErrors(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || "(body)"} ${e.message ?? e.keyword}`).join("; ");
}

async function expectErrorArray(res: Response, status: number, dataCode: string): Promise<Json[]> {
  const raw = await jsonOf(res);
  expect(res.status, JSON.stringify(raw)).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  expect(errorArrayValidator(raw), `${status} error body ${JSON.stringify(raw)}: ${ajvErrors(errorArrayValidator)}`).toBe(true);
  const errors = raw as Json[];
  expect(errors.map((e) => e.$dataCode)).toContain(dataCode);
  for (const e of errors) expect(e.$severity).toBe("error");
  validated.push(`error ${status} ${dataCode}`);
  return errors;
}

/** A list answer: the documented envelope, and every item against the spec's array item schema. */
async function expectEnvelope(res: Response, specPath: string, resource: string): Promise<Json> {
  const raw = await jsonOf(res);
  expect(res.status, JSON.stringify(raw).slice(0, 300)).toBe(200);
  const declared = declaredResponse(spec, "get", specPath, 200);
  expect(declared, `spec declares no 200 schema for GET ${specPath}`).not.toBeNull();
  if (!declared) throw new Error("unreachable");
  // The spec models a bare array; Sage answers the envelope (SAGE-FACTS §1.6) — assert that, then items.
  expect(declared.schema.type, `GET ${specPath}: spec no longer models a bare array`).toBe("array");
  expect(envelopeValidator(raw), `GET ${specPath} envelope: ${ajvErrors(envelopeValidator)}`).toBe(true);
  const env = raw as Json & { $items: unknown[]; $next: string | null; $back: string | null; $total: number; $page: number; $itemsPerPage: number };
  expect(env.$items.length).toBeLessThanOrEqual(env.$itemsPerPage);
  expect(env.$items.length).toBeLessThanOrEqual(env.$total);
  for (const link of [env.$next, env.$back]) if (link !== null) expect(link.startsWith(`/${resource}?`), link).toBe(true);
  const lastPage = Math.max(1, Math.ceil(env.$total / env.$itemsPerPage));
  expect(env.$next === null).toBe(env.$page >= lastPage);
  expect(env.$back === null).toBe(env.$page <= 1);

  const label = `GET ${specPath} 200 (${declared.operationId}) $items[]`;
  const itemValidator = validatorAt(spec, `${declared.pointer}/items`);
  const itemSchema = declared.schema.items;
  env.$items.forEach((item, i) => {
    const verdict = judge(itemValidator, item);
    expect(verdict.mismatches, formatMismatches(`${label} [${i}]`, verdict.mismatches)).toEqual([]);
    expect(isObj(item), `${label} [${i}] is not an object`).toBe(true);
    note(nullsSeen, label, verdict.nullProperties.map((p) => `/$items/*${p}`));
    note(undocumented, label, undocumentedProperties(spec, itemSchema, item));
  });
  validated.push(label);
  return env;
}

// ---------------------------------------------------------------------------------------------------
// Setup

beforeAll(async () => {
  // Explicit options (= the documented defaults) so an APP_URL etc. in the environment cannot interfere.
  sb = await startSandbox({ port: 0, appUrl: APP_URL, sageClientId: CLIENT_ID, sageClientSecret: CLIENT_SECRET });
  base = sb.url;
  const [tokens, loaded] = await Promise.all([obtainAccessToken(base, "Alex Morgan"), conformanceSpec()]);
  token = tokens.access_token;
  spec = loaded;
  const user = (await jsonOf(await call("GET", "/user"))) as Json;
  const seed = (await jsonOf(await control("GET", "/sage"))) as { users: Array<{ id: string; lead_business_id: string }> };
  const me = seed.users.find((u) => u.id === tokens.requested_by_id);
  if (!me) throw new Error(`user ${String(user.id)} not in the seed`);
  business = me.lead_business_id;
  const ledgers = async (visibleIn: string): Promise<string> => {
    const env = (await jsonOf(await call("GET", `/ledger_accounts?visible_in=${visibleIn}&attributes=all&items_per_page=200`))) as { $items: Json[] };
    const first = env.$items[0];
    if (!first) throw new Error(`no ledger account visible in ${visibleIn}`);
    return String(first.id);
  };
  [salesLedger, expensesLedger] = await Promise.all([ledgers("sales"), ledgers("expenses")]);
});

afterAll(async () => {
  const lines = [`validated ${validated.length}: ${validated.join(" | ")}`];
  for (const [label, set] of nullsSeen) lines.push(`null (spec declares no nullability) ${label}: ${[...set].join(" ")}`);
  for (const [label, set] of undocumented) lines.push(`undocumented properties ${label}: ${[...set].join(" ")}`);
  for (const [label, set] of absent) lines.push(`declared but not sent ${label}: ${[...set].join(" ")}`);
  if (process.env.CONFORMANCE_REPORT) console.info(lines.join("\n"));
  await sb?.close();
});

// Records created along the way (tests run in file order; each falls back to creating what it needs).
const made: { contact?: Json; product?: Json; service?: Json } & Record<string, Json | undefined> = {};

let vendor: string | undefined;
async function vendorId(): Promise<string> {
  if (!vendor) {
    const env = (await jsonOf(await call("GET", "/contacts?contact_type_id=VENDOR"))) as { $items: Json[] };
    vendor = String(env.$items[0]?.id ?? "");
  }
  return vendor;
}

function uniq(): string {
  return Math.random().toString(36).slice(2, 8).toUpperCase();
}

async function contact(): Promise<Json> {
  if (!made.contact) {
    const res = await call("POST", "/contacts", { contact: { name: `Conformance Customer ${uniq()}`, contact_type_ids: ["CUSTOMER"] } });
    made.contact = (await jsonOf(res)) as Json;
  }
  return made.contact;
}

interface DocKind {
  resource: "sales_invoices" | "sales_credit_notes";
  wrapper: "sales_invoice" | "sales_credit_note";
  lines: "invoice_lines" | "credit_note_lines";
}
const KINDS: DocKind[] = [
  { resource: "sales_invoices", wrapper: "sales_invoice", lines: "invoice_lines" },
  { resource: "sales_credit_notes", wrapper: "sales_credit_note", lines: "credit_note_lines" },
];

/** A product and a service for document lines (the ones created above, else seeded ones). */
async function lineItems(): Promise<{ productId: string; serviceId: string }> {
  const first = async (resource: string): Promise<string> => {
    const env = (await jsonOf(await call("GET", `/${resource}`))) as { $items: Json[] };
    return String(env.$items[0]?.id ?? "");
  };
  return {
    productId: made.product ? String(made.product.id) : await first("products"),
    serviceId: made.service ? String(made.service.id) : await first("services"),
  };
}

async function documentBody(k: DocKind, extra: Json = {}): Promise<Json> {
  const c = await contact();
  const { productId, serviceId } = await lineItems();
  return {
    [k.wrapper]: {
      contact_id: c.id,
      date: "2026-01-15",
      ...(k.wrapper === "sales_invoice" ? { due_date: "2026-02-28" } : {}),
      reference: `CONF-${uniq()}`,
      notes: "conformance",
      [k.lines]: [
        {
          description: "Support hours",
          service_id: serviceId,
          ledger_account_id: salesLedger,
          quantity: 3,
          unit_price: 10,
          tax_rate_id: "GB_STANDARD",
          tax_amount: 6,
        },
        { description: "Widget", product_id: productId, ledger_account_id: salesLedger, quantity: 1, unit_price: 6.5, tax_rate_id: "GB_STANDARD", tax_amount: 1.3 },
      ],
      ...extra,
    },
  };
}

async function createDocument(k: DocKind, extra: Json = {}): Promise<Json> {
  const res = await call("POST", `/${k.resource}`, await documentBody(k, extra));
  const raw = (await jsonOf(res)) as Json;
  if (res.status !== 201) throw new Error(`create ${k.resource}: ${res.status} ${JSON.stringify(raw)}`);
  return raw;
}

// ---------------------------------------------------------------------------------------------------

describe("single-record responses validate against the spec's response schema", () => {
  it("GET /user 200", async () => {
    const u = await expectConforms(await call("GET", "/user?attributes=all"), "get", "/user", 200);
    expect(typeof u.id).toBe("string");
  });

  it("GET /businesses/{key} 200", async () => {
    const b = await expectConforms(await call("GET", `/businesses/${business}?attributes=all`), "get", "/businesses/{key}", 200);
    expect(b.id).toBe(business);
  });

  it("POST /contacts 201 and GET /contacts/{key} 200", async () => {
    const res = await call("POST", "/contacts", {
      contact: {
        name: `Conformance Customer ${uniq()}`,
        contact_type_ids: ["CUSTOMER"],
        tax_number: "GB123456789",
        notes: "created by the conformance test",
        credit_limit: 1000,
        credit_days: 14,
        main_address: { address_line_1: "1 High Street", city: "Leeds", postal_code: "LS1 1AA", country_id: "GB" },
        main_contact_person: { name: "Pat Accounts", email: "pat@example.test", telephone: "0113 000000" },
        default_sales_ledger_account_id: salesLedger,
        default_sales_tax_rate_id: "GB_STANDARD",
      },
    });
    made.contact = await expectConforms(res, "post", "/contacts", 201);
    const id = String(made.contact.id);
    await expectConforms(await call("GET", `/contacts/${id}?attributes=all`), "get", "/contacts/{key}", 200);
  });

  it("POST /products 201 and GET /products/{key} 200", async () => {
    const res = await call("POST", "/products", {
      product: {
        description: `Conformance widget ${uniq()}`,
        item_code: `CW-${uniq()}`,
        sales_ledger_account_id: salesLedger,
        purchase_ledger_account_id: expensesLedger,
        sales_tax_rate_id: "GB_STANDARD",
        purchase_tax_rate_id: "GB_STANDARD",
        usual_supplier_id: await vendorId(),
        notes: "created by the conformance test",
        purchase_description: "Widget (bought in)",
        sales_prices: [{ price_name: "Selling Price", price: 12.5, price_includes_tax: false }],
        cost_price: 5,
      },
    });
    made.product = await expectConforms(res, "post", "/products", 201);
    await expectConforms(await call("GET", `/products/${String(made.product.id)}?attributes=all`), "get", "/products/{key}", 200);
  });

  it("DELETE /products/{key} 204: the spec declares no content, and none comes", async () => {
    const res = await call("POST", "/products", {
      product: { description: `Conformance throwaway ${uniq()}`, sales_ledger_account_id: salesLedger, purchase_ledger_account_id: expensesLedger },
    });
    const p = (await jsonOf(res)) as Json;
    expect(res.status).toBe(201);
    expect(declaredResponse(spec, "delete", "/products/{key}", 204)).toBeNull();
    const op = spec.doc.paths["/products/{key}"]?.delete as Json | undefined;
    expect(Object.keys((op?.responses as Json | undefined) ?? {})).toEqual(["204"]);
    const del = await call("DELETE", `/products/${String(p.id)}`);
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    validated.push("DELETE /products/{key} 204 (deleteProductsKey) no content");
  });

  it("POST /services 201 and GET /services/{key} 200", async () => {
    const res = await call("POST", "/services", {
      service: {
        description: `Conformance support hour ${uniq()}`,
        item_code: `CS-${uniq()}`,
        sales_ledger_account_id: salesLedger,
        purchase_ledger_account_id: expensesLedger,
        sales_tax_rate_id: "GB_STANDARD",
        notes: "created by the conformance test",
        cost_price: 40,
        sales_rates: [{ rate_name: "Hourly", rate: 80, rate_includes_tax: false }],
      },
    });
    made.service = await expectConforms(res, "post", "/services", 201);
    await expectConforms(await call("GET", `/services/${String(made.service.id)}?attributes=all`), "get", "/services/{key}", 200);
  });

  it("GET /ledger_accounts/{key} 200", async () => {
    await expectConforms(await call("GET", `/ledger_accounts/${salesLedger}?attributes=all`), "get", "/ledger_accounts/{key}", 200);
    await expectConforms(await call("GET", `/ledger_accounts/${expensesLedger}?attributes=all`), "get", "/ledger_accounts/{key}", 200);
  });

  it.each([
    ["/tax_rates/{key}", "/tax_rates/GB_STANDARD"],
    ["/currencies/{key}", "/currencies/GBP"],
    ["/contact_types/{key}", "/contact_types/CUSTOMER"],
    ["/artefact_statuses/{key}", "/artefact_statuses/UNPAID"],
  ])("GET %s 200", async (specPath, path) => {
    await expectConforms(await call("GET", `${path}?attributes=all`), "get", specPath, 200);
  });

  for (const k of KINDS) {
    describe(k.resource, () => {
      it(`POST /${k.resource} 201, GET 200, PUT 200, DELETE?void_reason 200 (voided)`, async () => {
        const created = await expectConforms(await call("POST", `/${k.resource}`, await documentBody(k)), "post", `/${k.resource}`, 201);
        const id = String(created.id);
        const got = await expectConforms(await call("GET", `/${k.resource}/${id}?attributes=all`), "get", `/${k.resource}/{key}`, 200);
        const lines = got[k.lines];
        expect(Array.isArray(lines) && lines.length === 2).toBe(true);
        made[k.resource] = got;

        const firstLine = (lines as Json[])[0] ?? {};
        const put = await call("PUT", `/${k.resource}/${id}`, {
          [k.wrapper]: {
            notes: "updated by the conformance test",
            reference: `CONF-UPD-${uniq()}`,
            [k.lines]: [{ id: firstLine.id, quantity: 4, tax_amount: 8 }],
          },
        });
        const updated = await expectConforms(put, "put", `/${k.resource}/{key}`, 200);
        expect(updated.notes).toBe("updated by the conformance test");

        const del = await call("DELETE", `/${k.resource}/${id}?void_reason=${encodeURIComponent("Raised in error (conformance)")}`);
        const voided = await expectConforms(del, "delete", `/${k.resource}/{key}`, 200);
        expect((voided.status as Json | undefined)?.id).toBe("VOID");
      });

      it(`POST /${k.resource}/{key}/release 201`, async () => {
        const draft = await createDocument(k, { status_id: "DRAFT" });
        expect((draft.status as Json | undefined)?.id).toBe("DRAFT");
        const res = await call("POST", `/${k.resource}/${String(draft.id)}/release`);
        const released = await expectConforms(res, "post", `/${k.resource}/{key}/release`, 201);
        expect((released.status as Json | undefined)?.id).toBe("UNPAID");
      });
    });
  }
});

describe("list responses: documented envelope + every $items entry against the spec's item schema", () => {
  it.each([
    ["/businesses", "/businesses?attributes=all"],
    ["/contacts", "/contacts?attributes=all&items_per_page=200"],
    ["/products", "/products?attributes=all&items_per_page=200"],
    ["/services", "/services?attributes=all&items_per_page=200"],
    ["/ledger_accounts", "/ledger_accounts?attributes=all&items_per_page=200"],
    ["/tax_rates", "/tax_rates?attributes=all&items_per_page=200"],
    ["/currencies", "/currencies?attributes=all"],
    ["/contact_types", "/contact_types?attributes=all"],
    ["/artefact_statuses", "/artefact_statuses?attributes=all"],
    ["/sales_invoices", "/sales_invoices?attributes=all&items_per_page=200"],
    ["/sales_credit_notes", "/sales_credit_notes?attributes=all&items_per_page=200"],
  ])("GET %s", async (specPath, path) => {
    // Exercise the item schema on real items, not an empty page (documents exist if the tests above ran).
    const kind = KINDS.find((k) => `/${k.resource}` === specPath);
    if (kind && !made[kind.resource]) await createDocument(kind);
    const env = await expectEnvelope(await call("GET", path), specPath, specPath.slice(1));
    expect((env.$items as unknown[]).length).toBeGreaterThan(0);
  });

  it("default items (no attributes) validate too, and $next/$back are relative links with the query", async () => {
    const first = await expectEnvelope(await call("GET", "/contacts?items_per_page=1"), "/contacts", "contacts");
    expect(first.$total as number).toBeGreaterThan(1);
    expect(first.$back).toBeNull();
    expect(first.$next).toMatch(/^\/contacts\?(?=.*page=2)(?=.*items_per_page=1)/);
    const second = await expectEnvelope(await call("GET", String(first.$next)), "/contacts", "contacts");
    expect(second.$page).toBe(2);
    expect(second.$back).toMatch(/^\/contacts\?(?=.*page=1)(?=.*items_per_page=1)/);
    for (const item of second.$items as Json[]) expect(Object.keys(item).sort()).toEqual(["$path", "displayed_as", "id"]);
  });
});

describe("error responses: the documented error array", () => {
  it("401 without a token", async () => {
    const res = await call("GET", "/contacts", undefined, { auth: false });
    await expectErrorArray(res, 401, "AuthorizationFailure");
    expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer /);
  });

  it("401 with an unknown token", async () => {
    const res = await fetch(`${base}/sage/v3.1/contacts`, { headers: { authorization: "Bearer not-a-token", accept: "application/json" } });
    await expectErrorArray(res, 401, "AuthorizationFailure");
  });

  it("404 for an unknown record", async () => {
    await expectErrorArray(await call("GET", `/contacts/${"0".repeat(32)}`), 404, "RecordNotFound");
    await expectErrorArray(await call("GET", `/sales_invoices/${"0".repeat(32)}`), 404, "RecordNotFound");
  });

  it("422 for invalid data, $source naming the field", async () => {
    const errors = await expectErrorArray(await call("POST", "/contacts", { contact: { contact_type_ids: ["CUSTOMER"] } }), 422, "RecordInvalid");
    expect(errors.map((e) => e.$source)).toContain("name");
    const k = KINDS[0]!;
    const bad = await documentBody(k);
    const lines = (bad[k.wrapper] as Json)[k.lines] as Json[];
    if (lines[0]) lines[0].tax_amount = 99;
    const invErrors = await expectErrorArray(await call("POST", `/${k.resource}`, bad), 422, "RecordInvalid");
    expect(invErrors.some((e) => String(e.$source).startsWith(`${k.lines}`))).toBe(true);
  });

  it("400 for an invalid query parameter", async () => {
    await expectErrorArray(await call("GET", "/contacts?items_per_page=500"), 400, "InvalidParameter");
  });

  it("429 once the rate limit is exhausted (Retry-After)", async () => {
    const before = (await jsonOf(await control("GET", "/config"))) as { rateLimit: Json };
    expect((await control("POST", "/config", { rateLimit: { limit: 2, windowSeconds: 60, retryAfter: true } })).status).toBeLessThan(300);
    try {
      let res: Response | null = null;
      for (let i = 0; i < 4; i++) {
        res = await call("GET", "/contact_types");
        if (res.status === 429) break;
        await res.arrayBuffer();
      }
      if (!res) throw new Error("no response");
      await expectErrorArray(res, 429, "TooManyRequests");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await control("POST", "/config", { rateLimit: before.rateLimit });
    }
  });
});

describe("the checks can fail", () => {
  it("the spec declares no nullability (so nulls are tolerated only as reported above), and every format is known", () => {
    // If a future spec version starts marking x-nullable, mapNullability turns it into JSON Schema and
    // the blanket null tolerance in judge() should be dropped in favour of it.
    expect(spec.facts).toEqual({ xNullable: 0, nullable: 0, unknownFormats: [] });
    const facts = { xNullable: 0, nullable: 0, unknownFormats: [] as string[] };
    const mapped = mapNullability(
      {
        type: "object",
        properties: {
          a: { type: "string", "x-nullable": true },
          b: { $ref: "#/definitions/B", "x-nullable": true },
          c: { type: "string", enum: ["x"], nullable: true },
          d: { type: "string" },
        },
        definitions: { B: { type: "object" } },
      },
      facts,
    );
    expect(facts).toMatchObject({ xNullable: 2, nullable: 1 });
    const v = new Ajv({ strict: false }).compile(mapped as Json);
    expect(v({ a: null, b: null, c: null })).toBe(true);
    expect(v({ b: 1 })).toBe(false);
    expect(v({ d: null })).toBe(false);
  });

  it("a contact whose id is a number is reported at /id by the same compiled schema", async () => {
    const declared = declaredResponse(spec, "get", "/contacts/{key}", 200);
    if (!declared) throw new Error("no schema");
    const good = (made.contact ?? (await contact())) as Json;
    const validate = validatorAt(spec, declared.pointer);
    expect(judge(validate, good).mismatches).toEqual([]);
    const verdict = judge(validate, { ...good, id: 12345 });
    expect(verdict.mismatches.map((m) => m.path)).toEqual(["/id"]);
    // Deeper paths and the null tolerance's limits: a wrong nested type and a null array item both fail.
    const nested = judge(validate, { ...good, contact_types: [null], main_address: { city: 7 } });
    expect(nested.mismatches.map((m) => m.path).sort()).toEqual(["/contact_types/0", "/main_address/city"]);
    expect(judge(validate, null).mismatches.length).toBeGreaterThan(0);
  });

  it("a bare array fails the envelope and an item with a wrong type fails the item schema", () => {
    expect(envelopeValidator([])).toBe(false);
    expect(envelopeValidator({ $total: 1, $page: 1, $next: "https://api.accounting.sage.com/v3.1/contacts?page=2", $back: null, $itemsPerPage: 20, $items: [] })).toBe(false);
    const declared = declaredResponse(spec, "get", "/sales_invoices", 200);
    if (!declared) throw new Error("no schema");
    const item = judge(validatorAt(spec, `${declared.pointer}/items`), { id: "x", total_amount: "36.00", invoice_lines: [{ quantity: "3" }] });
    expect(item.mismatches.map((m) => m.path).sort()).toEqual(["/invoice_lines/0/quantity", "/total_amount"]);
    expect(errorArrayValidator({ $severity: "error", $dataCode: "X", $message: "m", $source: "" })).toBe(false);
    expect(errorArrayValidator([{ $severity: "error", $dataCode: "X", $message: "m" }])).toBe(false);
  });
});

describe("the requests behind these answers were themselves spec-valid", () => {
  it("the sandbox's request log flags only the deliberately invalid requests", async () => {
    const text = await (await control("GET", "/requests?route=sage.*")).text();
    const entries = text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { method: string; path: string; status: number | null; spec_violation?: boolean });
    expect(entries.length).toBeGreaterThan(40);
    const flagged = entries.filter((e) => e.spec_violation).map((e) => `${e.method} ${e.path} ${String(e.status)}`);
    expect(flagged).toEqual(["POST /sage/v3.1/contacts 422", "GET /sage/v3.1/contacts 400"]);
  });
});
