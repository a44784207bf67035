import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth/auth";

/**
 * next-auth's endpoints (/api/auth/*) behind a guard: input next-auth would answer with a 500
 * ("There was a problem with the server configuration") or throw on is refused with a 400 first.
 * Malformed addresses and unusable forwarded headers are refused by proxy.ts for every route; here:
 * - a `callbackUrl` (query, any occurrence) or callback-URL cookie that is not an http(s) URL or a
 *   path on this site: @auth/core's assertConfig treats it as a configuration error (500);
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

function refusal(request: NextRequest): Response | null {
  const url = request.nextUrl;
  const callbackUrls = [...url.searchParams.getAll("callbackUrl"), ...request.cookies.getAll(CALLBACK_URL_COOKIE).map((c) => c.value)];
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
