// /sage/v3.1/* — the Accounting API. Every request goes through one pipeline:
// bearer token → business (X-Business or lead) → subscription → scope → handler.
import { json, sageError, type Reply } from "../../http";
import { paginate } from "./paging";
import type { RequestContext, Route, RouteMatch } from "../../router";
import { authenticate, resolveBusiness, subscriptionCheck } from "../auth";
import type { SageBusiness, SageUser } from "../world";
import { getBusiness, getUser, listBusinesses, putBusiness, putUser } from "./businesses";

export const API_PREFIX = "/sage/v3.1";

export interface ApiContext {
  user: SageUser;
  business: SageBusiness;
}

export interface Operation {
  method: string;
  /** Path template relative to the API root, e.g. "/businesses/:key". */
  path: string;
  name: string;
  /** User-level operations (businesses, user) do not need a business. */
  userLevel?: boolean;
  userHandler?: (ctx: RequestContext, user: SageUser) => Reply | Promise<Reply>;
  handler?: (ctx: RequestContext, api: ApiContext) => Reply | Promise<Reply>;
}

const operations: Operation[] = [
  { method: "GET", path: "/businesses", name: "sage.businesses.list", userLevel: true, userHandler: listBusinesses },
  { method: "GET", path: "/businesses/:key", name: "sage.businesses.get", userLevel: true, userHandler: getBusiness },
  { method: "PUT", path: "/businesses/:key", name: "sage.businesses.update", userLevel: true, userHandler: putBusiness },
  { method: "GET", path: "/user", name: "sage.user.get", userLevel: true, userHandler: getUser },
  { method: "PUT", path: "/user", name: "sage.user.update", userLevel: true, userHandler: putUser },
  // Phase-1 placeholder until the accounting resources land.
  { method: "GET", path: "/contacts", name: "sage.contacts.list", handler: (ctx) => json(200, paginate([], "/contacts", ctx.query)) },
];

export function registerOperations(ops: Operation[]): void {
  operations.push(...ops);
  compiledOps = null;
}

let compiledOps: CompiledOp[] | null = null;
function compiledOperations(): CompiledOp[] {
  if (!compiledOps) compiledOps = operations.map(compile);
  return compiledOps;
}

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

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

async function run(ctx: RequestContext, op: Operation): Promise<Reply> {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.reply;
  const { token, user } = auth;
  const isWrite = WRITE_METHODS.has(ctx.method);
  if (isWrite && token.scope === "readonly") {
    return sageError(
      ctx.sb.config.readonlyWriteStatus,
      "AuthorizationFailure",
      "Access denied. The access token was granted the readonly scope.",
    );
  }
  if (op.userLevel && op.userHandler) return op.userHandler(ctx, user);
  const b = resolveBusiness(ctx, user);
  if (!b.ok) return b.reply;
  const lapsed = subscriptionCheck(b.business);
  if (lapsed) return lapsed;
  if (!op.handler) return sageError(500, "InternalError", "Operation has no handler.");
  return op.handler(ctx, { user, business: b.business });
}

export const sageApiRoute: Route = {
  match(method, path): RouteMatch | null {
    if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return null;
    const rel = path.slice(API_PREFIX.length) || "/";
    const compiled = compiledOperations();
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
      return { name: op.name, params, control: false, handler: (ctx) => run(ctx, op) };
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
      handler: () => sageError(404, "NotFound", "The requested endpoint does not exist."),
    };
  },
};
