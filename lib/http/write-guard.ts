/**
 * Cross-site request refusal for the app's write routes.
 *
 * The session cookie is `SameSite=None` (the app runs inside the marketplace's cross-site iframe), so
 * the browser attaches it to requests that any other page makes — a form auto-submitted from
 * evil.test, or a `no-cors` fetch from a page on the portal's own site. A write is accepted only when
 * the browser says it came from our own origin:
 *
 * 1. `Origin` present → it must be the app's own origin (`APP_URL`). `Origin: null` (sandboxed frames,
 *    opaque redirects) is refused.
 * 2. no `Origin`, `Sec-Fetch-Site` present → it must be `same-origin`.
 * 3. neither header → not a browser (curl, a server): nothing was attached by a browser on the user's
 *    behalf, so there is nothing to forge; the route's own authentication decides.
 *
 * JSON routes also require `Content-Type: application/json`: a cross-site page cannot send that
 * without a CORS preflight, which this app never answers. Webhooks and the Inngest endpoint carry
 * their own proof (signatures) and are exempt; OAuth callbacks are GETs with a signed state.
 *
 * Pure: no framework imports, so proxy.ts and the tests call the same function.
 */

export type WriteGuardVerdict =
  | { ok: true }
  | { ok: false; status: 403 | 415; error: "cross_site_request" | "unsupported_media_type"; message: string };

export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Paths whose writes prove themselves with a signature instead of a browser session. */
const SIGNED_ENDPOINTS = [/^\/api\/marketplace\/events\//, /^\/api\/inngest(\/|$)/, /^\/api\/file-exchange\/[^/]+\/(approval|notifications)$/];
/** next-auth's own endpoints post urlencoded forms (its CSRF token is checked too). */
const FORM_ENDPOINTS = [/^\/api\/auth(\/|$)/];

export type GuardedRequest = { method: string; pathname: string; headers: { get(name: string): string | null } };

/** Does this route answer writes from a browser session (and so need the cross-site check)? */
export function isSessionWrite(method: string, pathname: string): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  if (!pathname.startsWith("/api/")) return false; // pages: server actions have Next's own origin check
  return !SIGNED_ENDPOINTS.some((re) => re.test(pathname));
}

export function checkWriteRequest(request: GuardedRequest, appOrigin: string): WriteGuardVerdict {
  if (!isSessionWrite(request.method, request.pathname)) return { ok: true };
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  if (origin !== null) {
    if (origin !== appOrigin) {
      return {
        ok: false,
        status: 403,
        error: "cross_site_request",
        message: `Refused: this request came from ${origin === "null" ? "an opaque origin" : origin}, not from Sage Connector (${appOrigin}). Changes are only accepted from the app's own pages.`,
      };
    }
  } else if (fetchSite !== null && fetchSite !== "same-origin") {
    return {
      ok: false,
      status: 403,
      error: "cross_site_request",
      message: `Refused: the browser reports this request as ${fetchSite}. Changes are only accepted from the app's own pages.`,
    };
  }
  if (FORM_ENDPOINTS.some((re) => re.test(request.pathname))) return { ok: true };
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return {
      ok: false,
      status: 415,
      error: "unsupported_media_type",
      message: `Refused: send the request body as application/json${type ? ` (got ${type})` : " (no Content-Type was given)"}.`,
    };
  }
  return { ok: true };
}
