import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth/auth";

/**
 * next-auth's endpoints (/api/auth/*) behind a guard: input next-auth would answer with a 500
 * ("There was a problem with the server configuration") or throw on is refused with a 400 first.
 *
 * - a malformed address (bad percent-encoding; proxy.ts refuses it too, this keeps the route safe alone);
 * - a `callbackUrl` (query, any occurrence) or callback-URL cookie that is not an http(s) URL or a
 *   path on this site: @auth/core's assertConfig treats it as a configuration error (500);
 * - `X-Forwarded-Proto`/`-Host` that cannot form a URL (they reach next-auth only when AUTH_TRUST_HOST
 *   lets proxy.ts pass them through);
 * - anything else next-auth throws while parsing a malformed URL (URIError, "Invalid URL").
 */

/** must match lib/auth/auth.ts `cookies.callbackUrl.name` */
const CALLBACK_URL_COOKIE = "sc.callback-url";

type Handler = (request: NextRequest) => Promise<Response>;

function badRequest(message: string): Response {
  return Response.json({ error: "bad_request", message }, { status: 400, headers: { "Cache-Control": "no-store" } });
}

/** @auth/core's own rule (lib/utils/assert.js isValidHttpUrl): an absolute http(s) URL, or a path resolved against the origin. */
function isValidCallbackUrl(value: string, origin: string): boolean {
  try {
    return /^https?:$/.test(new URL(value, value.startsWith("/") ? origin : undefined).protocol);
  } catch {
    return false;
  }
}

function cookieValues(header: string | null, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // the cookie parser keeps an undecodable value as it is
    }
    out.push(value);
  }
  return out;
}

function refusal(request: Request): Response | null {
  let url: URL;
  try {
    url = new URL(request.url);
    decodeURIComponent(url.pathname);
  } catch {
    return badRequest("The address is not valid (malformed percent-encoding).");
  }
  const proto = request.headers.get("x-forwarded-proto");
  if (proto !== null && !/^https?$/i.test(proto.split(",")[0]!.trim())) return badRequest("X-Forwarded-Proto must be http or https.");
  const host = request.headers.get("x-forwarded-host");
  if (host !== null) {
    try {
      new URL(`http://${host.split(",")[0]!.trim()}`);
    } catch {
      return badRequest("X-Forwarded-Host is not a valid host.");
    }
  }
  const callbackUrls = [...url.searchParams.getAll("callbackUrl"), ...cookieValues(request.headers.get("cookie"), CALLBACK_URL_COOKIE)];
  if (callbackUrls.some((v) => v !== "" && !isValidCallbackUrl(v, url.origin))) {
    return badRequest("callbackUrl must be a path on this site or an http(s) address.");
  }
  return null;
}

function guarded(handler: Handler): Handler {
  return async (request) => {
    const refused = refusal(request);
    if (refused) return refused;
    try {
      return await handler(request);
    } catch (e) {
      if (e instanceof URIError || (e instanceof TypeError && /invalid url/i.test(e.message))) return badRequest("The address is not valid.");
      throw e;
    }
  };
}

export const GET = guarded(handlers.GET);
export const POST = guarded(handlers.POST);
