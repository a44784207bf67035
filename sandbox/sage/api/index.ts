// /sage/v3.1/* — the Accounting API. Every request goes through one pipeline:
//   spec check (flag) → bearer token → business (X-Business or lead) → subscription → rate limit
//   → scope → media type → spec violations → idempotency → handler.
import { isRecord, mediaType, sageError, type Reply } from "../../http";
import { jsonOf, type RequestContext, type Route, type RouteMatch } from "../../router";
import { authenticate, resolveBusiness, subscriptionCheck } from "../auth";
import type { BusinessData } from "../data";
import { specKnows, validateAgainstSpec, type SpecResult } from "../spec";
import type { SageBusiness } from "../world";
import { allocationOperations } from "./allocations";
import { artefactOperations } from "./artefacts";
import { getBusiness, getUser, listBusinesses, putBusiness, putUser } from "./businesses";
import { FieldErrors } from "./common";
import { contactOperations } from "./contacts";
import { itemOperations } from "./items";
import { referenceOperations } from "./reference";
import type { Operation } from "./types";

export type { ApiContext, Operation } from "./types";

export const API_PREFIX = "/sage/v3.1";

const operations: Operation[] = [
  { method: "GET", path: "/businesses", name: "sage.businesses.list", userLevel: true, userHandler: listBusinesses },
  { method: "GET", path: "/businesses/:key", name: "sage.businesses.get", userLevel: true, userHandler: getBusiness },
  { method: "PUT", path: "/businesses/:key", name: "sage.businesses.update", userLevel: true, userHandler: putBusiness },
  { method: "GET", path: "/user", name: "sage.user.get", userLevel: true, userHandler: getUser },
  { method: "PUT", path: "/user", name: "sage.user.update", userLevel: true, userHandler: putUser },
  ...referenceOperations,
  ...contactOperations,
  ...itemOperations,
  ...artefactOperations,
  ...allocationOperations,
];

interface CompiledOp {
  op: Operation;
  pattern: RegExp;
  keys: string[];
}

function compile(op: Operation): CompiledOp {
  const keys: string[] = [];
  const src = op.path
    .split("/")
    .map((seg) => {
      if (seg.startsWith(":")) {
        keys.push(seg.slice(1));
        return "([^/]+)";
      }
      return seg.replace(/[.+?^${}()|[\]\\*]/g, "\\$&");
    })
    .join("/");
  return { op, pattern: new RegExp(`^${src}/?$`), keys };
}

const compiled: CompiledOp[] = operations.map(compile);

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const IDEMPOTENCY_ID = /^[0-9a-fA-F]{32}$/;

function headerMap(ctx: RequestContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function specViolationReply(spec: SpecResult): Reply {
  const body = spec.issues.filter((i) => i.location === "body");
  const e = new FieldErrors();
  if (body.length > 0) {
    for (const i of body) {
      const parts = i.field.split(".");
      // "sales_invoice.invoice_lines.unit_price" → "invoice_lines.unit_price" (namespace implied)
      const field = parts.length > 1 ? parts.slice(1).join(".") : i.field;
      e.add(field, i.message);
    }
    return e.reply(422);
  }
  for (const i of spec.issues) e.add(i.field || i.location, i.message, "InvalidParameter");
  return e.reply(400);
}

/** Sliding window per business: `limit` calls per `windowSeconds`. */
function rateLimit(ctx: RequestContext, data: BusinessData): Reply | null {
  const { limit, windowSeconds, retryAfter } = ctx.sb.config.rateLimit;
  const now = ctx.sb.now();
  const windowMs = windowSeconds * 1000;
  data.rateWindow = data.rateWindow.filter((t) => t > now - windowMs);
  if (data.rateWindow.length >= limit) {
    const oldest = data.rateWindow[0] ?? now;
    const wait = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    ctx.entry.rate_limited = true;
    return sageError(
      429,
      "TooManyRequests",
      `Rate limit exceeded: ${limit} requests per ${windowSeconds} seconds per business.`,
      "",
      retryAfter ? { "retry-after": String(wait) } : {},
    );
  }
  data.rateWindow.push(now);
  return null;
}

async function run(ctx: RequestContext, op: Operation, apiPath: string): Promise<Reply> {
  const reply = await answer(ctx, op, apiPath);
  const flagged = ctx.entry.undocumented_params;
  if (Array.isArray(flagged) && flagged.length > 0) reply.headers = { ...reply.headers, "x-sandbox-undocumented-params": flagged.join(",") };
  return reply;
}

async function answer(ctx: RequestContext, op: Operation, apiPath: string): Promise<Reply> {
  const { sb } = ctx;
  const isWrite = WRITE_METHODS.has(ctx.method);
  const hasBody = ctx.rawBody.length > 0;
  const isJson = mediaType(ctx.req) === "application/json";
  const parsed = hasBody && isJson ? jsonOf(ctx) : null;

  // 1. Check against the published spec (flag now, answer after auth like Sage would).
  let spec: SpecResult | null = null;
  if (sb.config.specValidation) {
    spec = await validateAgainstSpec({
      method: ctx.method,
      path: apiPath,
      query: ctx.query,
      headers: headerMap(ctx),
      body: parsed && parsed.ok ? parsed.value : undefined,
    });
    if (!spec.valid) {
      ctx.entry.spec_violation = true;
      ctx.entry.spec_issues = spec.issues;
    }
    if (spec.unknownAttributes.length > 0) ctx.entry.unknown_attributes = spec.unknownAttributes;
    if (spec.undocumentedParams.length > 0) ctx.entry.undocumented_params = spec.undocumentedParams;
  }

  // 2. Token.
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.reply;
  const { token, user } = auth;

  // 3. Business.
  let business: SageBusiness;
  if (op.userLevel) {
    const lead = sb.sage.businesses.get(user.leadBusinessId);
    if (!lead) return sageError(500, "InternalServerError", "Lead business missing.");
    business = lead;
  } else {
    const b = resolveBusiness(ctx, user);
    if (!b.ok) return b.reply;
    business = b.business;
    // 4. Subscription.
    const lapsed = subscriptionCheck(business);
    if (lapsed) return lapsed;
  }
  const data = sb.sage.data.get(business.id);
  if (!data) return sageError(500, "InternalServerError", "Business data missing.");

  // 5. Rate limit (per business).
  const limited = rateLimit(ctx, data);
  if (limited) return limited;

  // 6. Scope.
  if (isWrite && token.scope === "readonly") {
    return sageError(
      sb.config.readonlyWriteStatus,
      "AuthorizationFailure",
      "Access denied. The access token was granted the readonly scope.",
    );
  }

  // 7. Media type and JSON.
  if ((ctx.method === "POST" || ctx.method === "PUT") && hasBody && !isJson) {
    ctx.entry.spec_violation = true;
    return sageError(415, "UnsupportedMediaType", "Content-Type must be application/json.");
  }
  if (parsed && !parsed.ok) {
    ctx.entry.spec_violation = true;
    return sageError(400, "BadRequest", `The request body is not valid JSON: ${parsed.error}`);
  }

  // 8. Spec violations.
  if (spec && !spec.valid) return specViolationReply(spec);

  if (op.userLevel && op.userHandler) return op.userHandler(ctx, user);
  if (!op.handler) return sageError(500, "InternalServerError", "Operation has no handler.");

  // 9. Idempotency (creates): `idempotency_id` inside the resource namespace.
  const api = { user, business, data };
  if (op.idempotentWrapper && ctx.method === "POST" && parsed?.ok && isRecord(parsed.value)) {
    const inner = parsed.value[op.idempotentWrapper];
    if (isRecord(inner) && inner.idempotency_id !== undefined && inner.idempotency_id !== null) {
      const id = inner.idempotency_id;
      if (typeof id !== "string" || !IDEMPOTENCY_ID.test(id)) {
        const e = new FieldErrors();
        e.add("idempotency_id", "must be a 32 character hyphenless GUID");
        return e.reply(422);
      }
      const key = `${op.idempotentWrapper}:${id.toLowerCase()}`;
      ctx.entry.idempotency_id = id.toLowerCase();
      const stored = data.idempotency.get(key);
      if (stored) {
        ctx.entry.idempotent_replay = true;
        return { status: stored.status, headers: { "content-type": "application/json; charset=utf-8" }, body: stored.body };
      }
      const reply = await op.handler(ctx, api);
      if (reply.status >= 200 && reply.status < 300) {
        const body = typeof reply.body === "string" ? reply.body : (reply.body?.toString("utf8") ?? "");
        let resourceId = "";
        try {
          const v = JSON.parse(body) as unknown;
          if (isRecord(v) && typeof v.id === "string") resourceId = v.id;
        } catch {
          // not JSON
        }
        data.idempotency.set(key, { status: reply.status, body, resourceId });
      }
      return reply;
    }
  }
  return op.handler(ctx, api);
}

export const sageApiRoute: Route = {
  match(method, path): RouteMatch | null {
    if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return null;
    const rel = path.slice(API_PREFIX.length) || "/";
    const apiPath = `/v3.1${rel}`;
    let pathMatched = false;
    for (const c of compiled) {
      const m = c.pattern.exec(rel);
      if (!m) continue;
      pathMatched = true;
      if (c.op.method !== method) continue;
      const params: Record<string, string> = {};
      c.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] ?? "");
      });
      const op = c.op;
      return { name: op.name, params, control: false, handler: (ctx) => run(ctx, op, apiPath) };
    }
    if (pathMatched) {
      return {
        name: "sage.method_not_allowed",
        params: {},
        control: false,
        handler: () => sageError(405, "MethodNotAllowed", `The method ${method} is not allowed for this resource.`),
      };
    }
    return {
      name: "sage.not_found",
      params: {},
      control: false,
      handler: async (ctx) => {
        const known = await specKnows(method, apiPath).catch(() => null);
        if (known) {
          ctx.entry.route = "sage.not_simulated";
          return sageError(501, "NotImplemented", `The sandbox does not simulate ${method} ${rel} (${known}).`);
        }
        return sageError(404, "NotFound", "The requested endpoint does not exist.");
      },
    };
  },
};

/** Warm the spec conversion in the background (direct runs; tests convert lazily). */
export { specBackend as warmSpec } from "../spec";

