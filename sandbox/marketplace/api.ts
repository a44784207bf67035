// The marketplace's public API: /marketplace/public/v1 (docs/marketplace-api.md).
// ApiKey auth, Connect-style paging (limit/offset, Content-Range), {error, message} errors.
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { isRecord, json, type Reply } from "../http";
import { jsonOf, route, type RequestContext, type Route, type RouteMatch } from "../router";
import { MarketplaceWorld, type AccountWorld } from "./world";

export const API_BASE = "/marketplace/public/v1";

export function apiError(status: number, error: string, message: string, headers: Record<string, string> = {}): Reply {
  const r = json(status, { error, message }, headers);
  r.log = { error };
  return r;
}

function authorized(ctx: RequestContext): boolean {
  const header = ctx.req.headers.authorization ?? "";
  const m = /^ApiKey\s+(.+)$/i.exec(header.trim());
  if (!m?.[1]) return false;
  const given = Buffer.from(m[1].trim());
  const expected = Buffer.from(ctx.sb.opts.marketplaceSecret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const UNAUTHORIZED = (): Reply =>
  apiError(401, "unauthorized", "Missing or invalid API key: send Authorization: ApiKey <key>.", { "www-authenticate": 'ApiKey realm="marketplace"' });

type Guarded = (ctx: RequestContext) => Reply;

function guarded(handler: Guarded): (ctx: RequestContext) => Reply {
  return (ctx) => (authorized(ctx) ? handler(ctx) : UNAUTHORIZED());
}

function accountOf(ctx: RequestContext, value: string | undefined): AccountWorld | Reply {
  if (value === undefined || value === "") return apiError(400, "invalid_parameter", "account_id is required.");
  if (!MarketplaceWorld.validAccountId(value)) return apiError(400, "invalid_parameter", "account_id must be 1–40 letters, digits or dashes.");
  return ctx.sb.marketplace.account(value);
}

function isReply(v: unknown): v is Reply {
  return isRecord(v) && typeof v.status === "number";
}

interface Paging {
  limit: number;
  offset: number;
}

function pagingOf(query: Record<string, string>): Paging | Reply {
  const intParam = (name: string, def: number, min: number, max: number): number | Reply => {
    const raw = query[name];
    if (raw === undefined || raw === "") return def;
    if (!/^\d+$/.test(raw)) return apiError(400, "invalid_parameter", `${name} must be a whole number.`);
    const n = Number(raw);
    if (n < min || n > max) return apiError(400, "invalid_parameter", `${name} must be between ${min} and ${max}.`);
    return n;
  };
  const limit = intParam("limit", 100, 1, 1000);
  if (typeof limit !== "number") return limit;
  const offset = intParam("offset", 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset !== "number") return offset;
  return { limit, offset };
}

/** A JSON array page with `Content-Range: items <first>-<last>/<total>` (`items 0-0/0` when empty). */
function page<T>(all: readonly T[], p: Paging, render: (t: T) => unknown): Reply {
  const slice = all.slice(p.offset, p.offset + p.limit);
  const range = slice.length === 0 ? `items ${p.offset}-${p.offset}/${all.length}` : `items ${p.offset}-${p.offset + slice.length - 1}/${all.length}`;
  const r = json(200, slice.map(render), { "content-range": range });
  r.log = { returned: slice.length, total: all.length };
  return r;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** ISO 8601 date or date-time; no offset = UTC. Returns epoch ms or a 400 reply. */
function sinceOf(query: Record<string, string>): number | null | Reply {
  const raw = query.updated_since;
  if (raw === undefined || raw === "") return null;
  const m = ISO.exec(raw);
  if (!m) {
    const hint = / \d{2}:?\d{2}$/.test(raw) ? " (a '+' in the query string must be encoded as %2B)" : "";
    return apiError(400, "invalid_parameter", `updated_since must be an ISO 8601 date or date-time${hint}.`);
  }
  let s = raw.replace(" ", "T");
  if (!m[4]) s = `${s}T00:00:00Z`;
  else if (!m[8]) s = `${s}Z`;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return apiError(400, "invalid_parameter", "updated_since is not a valid date-time.");
  return ms;
}

// ---- handlers ----

const installationBody = z.object({
  account_id: z.string().regex(/^[A-Za-z0-9-]{1,40}$/, "1–40 letters, digits or dashes"),
  product_id: z.string().min(1).max(100).default("sage-connector"),
  webhook_url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL"),
});

function postInstallation(ctx: RequestContext): Reply {
  const parsed = jsonOf(ctx);
  if (!parsed.ok) return apiError(400, "invalid_request", `Body is not JSON: ${parsed.error}`);
  const body = installationBody.safeParse(parsed.value ?? {});
  if (!body.success) {
    const issue = body.error.issues[0];
    return apiError(400, "invalid_request", issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid body");
  }
  const { installation, created } = ctx.sb.marketplace.register(body.data.account_id, body.data.product_id, body.data.webhook_url);
  const r = json(created ? 201 : 200, {
    id: installation.id,
    account_id: installation.accountId,
    product_id: installation.productId,
    webhook_url: installation.webhookUrl,
    webhook_secret: installation.secrets[0],
    created: new Date(installation.createdMs).toISOString().replace(/\.000Z$/, "Z"),
  });
  r.log = { installation_id: installation.id, created };
  return r;
}

function listCustomers(ctx: RequestContext): Reply {
  const w = accountOf(ctx, ctx.query.account_id);
  if (isReply(w)) return w;
  const p = pagingOf(ctx.query);
  if (isReply(p)) return p;
  const since = sinceOf(ctx.query);
  if (isReply(since)) return since;
  const all = w.customersSorted().filter((c) => since === null || c.updatedMs >= since);
  return page(all, p, (c) => c.api);
}

function listProducts(ctx: RequestContext): Reply {
  const w = accountOf(ctx, ctx.query.account_id);
  if (isReply(w)) return w;
  const p = pagingOf(ctx.query);
  if (isReply(p)) return p;
  const search = (ctx.query.search ?? "").trim().toLowerCase();
  // Ids are fixed-width and assigned in order, so insertion order is id order.
  const all = search ? w.products.filter((x) => x.api.mpn.toLowerCase().includes(search) || x.api.name.toLowerCase().includes(search)) : w.products;
  return page(all, p, (x) => x.api);
}

function listRequests(ctx: RequestContext): Reply {
  const w = accountOf(ctx, ctx.query.account_id);
  if (isReply(w)) return w;
  const p = pagingOf(ctx.query);
  if (isReply(p)) return p;
  const since = sinceOf(ctx.query);
  if (isReply(since)) return since;
  const sorted = w.requestsSorted();
  let from = 0;
  if (since !== null) {
    // Binary search: first request with updated >= since.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid]?.updatedMs ?? 0) < since) lo = mid + 1;
      else hi = mid;
    }
    from = lo;
  }
  return page(from === 0 ? sorted : sorted.slice(from), p, (r) => r.api);
}

function getRequest(ctx: RequestContext): Reply {
  const id = ctx.params.id ?? "";
  const accountId = ctx.query.account_id;
  if (accountId !== undefined && accountId !== "") {
    const w = accountOf(ctx, accountId);
    if (isReply(w)) return w;
    const rec = w.requestsById.get(id);
    return rec ? json(200, rec.api) : apiError(404, "not_found", `No request ${id} in account ${accountId}.`);
  }
  for (const w of ctx.sb.marketplace.accounts.values()) {
    const rec = w.requestsById.get(id);
    if (rec) return json(200, rec.api);
  }
  return apiError(404, "not_found", `No request ${id}.`);
}

const OPERATIONS: Array<[string, string, string, Guarded]> = [
  ["POST", "/installations", "marketplace.api.installations.create", postInstallation],
  ["GET", "/customers", "marketplace.api.customers.list", listCustomers],
  ["GET", "/products", "marketplace.api.products.list", listProducts],
  ["GET", "/requests", "marketplace.api.requests.list", listRequests],
  ["GET", "/requests/:id", "marketplace.api.requests.get", getRequest],
];

const operationRoutes: Route[] = OPERATIONS.map(([method, path, name, handler]) => route(method, `${API_BASE}${path}`, name, guarded(handler)));

/** Everything under /marketplace/public/v1: the operations, then 405 / 404 as JSON errors. */
export const marketplaceApiRoute: Route = {
  match(method, path): RouteMatch | null {
    if (path !== API_BASE && !path.startsWith(`${API_BASE}/`)) return null;
    for (const r of operationRoutes) {
      const m = r.match(method, path);
      if (m) return m;
    }
    const known = operationRoutes.some((r) => ["GET", "POST", "PUT", "PATCH", "DELETE"].some((mm) => mm !== method && r.match(mm, path)));
    if (known) {
      return { name: "marketplace.api.method_not_allowed", params: {}, control: false, handler: guarded(() => apiError(405, "method_not_allowed", `${method} is not allowed on ${path}.`)) };
    }
    return { name: "marketplace.api.not_found", params: {}, control: false, handler: guarded(() => apiError(404, "not_found", `No such endpoint: ${method} ${path}.`)) };
  },
};
