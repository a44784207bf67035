// The API key of the data API (header X-Api-Key) and its rotation. Fact (SAGE-FACTS.md §3 "API-key
// rotation"): once a key has expired every operation answers 401 except rotation. The header name,
// the rotation body and the error codes are the contract's.
import { json, type Reply } from "../http";
import { route, type RequestContext, type Route } from "../router";
import { fail, objectBody } from "./replies";
import { iso, type ApiKey, type Company } from "./state";

export const API_KEY_HEADER = "x-api-key";

export type Authenticated = { ok: true; key: ApiKey; company: Company } | { ok: false; reply: Reply };

/**
 * Checks X-Api-Key for a data API call: unknown → 401 invalid_api_key, expired → 401 api_key_expired.
 * An `expire_key_after` fault lets `calls` more calls through, then expires the key in use.
 */
export function authenticate(ctx: RequestContext): Authenticated {
  const w = ctx.sb.sage50;
  const header = ctx.req.headers[API_KEY_HEADER];
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? "";
  const key = w.apiKeys.get(value);
  const company = key ? w.companies.get(key.companyId) : undefined;
  if (!key || !company) return { ok: false, reply: fail(401, "invalid_api_key") };
  const now = w.now();
  if (key.expiresMs > now) {
    const fault = w.faults.find((f) => f.kind === "expire_key_after");
    if (fault && fault.kind === "expire_key_after") {
      if (fault.calls > 0) fault.calls -= 1;
      else {
        key.expiresMs = now;
        w.faults = w.faults.filter((f) => f !== fault);
      }
    }
  }
  if (key.expiresMs <= now) return { ok: false, reply: fail(401, "api_key_expired") };
  ctx.entry.company = company.id;
  return { ok: true, key, company };
}

function rotate(ctx: RequestContext): Reply {
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const { initialApikey, secret } = parsed.body;
  if (typeof initialApikey !== "string" || typeof secret !== "string") {
    return fail(400, "invalid_request", "initialApikey and secret are required strings");
  }
  const w = ctx.sb.sage50;
  const old = w.apiKeys.get(initialApikey);
  if (!old) return fail(404, "unknown_api_key");
  const app = w.applications.get(old.applicationId);
  const company = w.companies.get(old.companyId);
  if (!app || !company) return fail(404, "unknown_api_key");
  if (secret !== app.secret) return fail(401, "invalid_secret");
  const key = w.issueKey(company.id, app.id);
  company.rotations += 1;
  ctx.entry.company = company.id;
  return json(200, { apikey: key.key, expires: iso(key.expiresMs) });
}

export const apiKeyRoutes: Route[] = [route("PATCH", "/sage50/api/apikeys", "sage50.apikeys.rotate", rotate)];
