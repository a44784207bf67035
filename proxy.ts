import { NextResponse, type NextRequest } from "next/server";
import { frameAncestorOrigins, getConfig, trustsForwardedHeaders } from "@/lib/config";
import { checkWriteRequest } from "@/lib/http/write-guard";

/**
 * Runs before every route. Decided at run time (next.config headers() would freeze them at build time):
 * - cross-site writes to the API are refused (lib/http/write-guard.ts): the session cookie is
 *   SameSite=None for the marketplace iframe, so the browser would attach it to any site's request;
 * - `X-Forwarded-Host/-Proto/-Port` are replaced by APP_URL's unless a proxy is trusted (AUTH_TRUST_HOST),
 *   so no redirect or absolute URL is ever built from a client-supplied host;
 * - security headers: CSP frame-ancestors from the configured marketplace origin(s) (no X-Frame-Options:
 *   it would block the portal), HSTS in production, `Cache-Control: no-store` on API answers.
 */
export async function proxy(request: NextRequest) {
  const appUrl = new URL(getConfig().appUrl);
  const pathname = request.nextUrl.pathname;
  if (!wellFormedPath(request.nextUrl.pathname)) {
    return withSecurityHeaders(Response.json({ error: "bad_request", message: "The address is not valid (malformed percent-encoding)." }, { status: 400 }), pathname);
  }
  const verdict = checkWriteRequest({ method: request.method, pathname, headers: request.headers }, appUrl.origin);
  if (!verdict.ok) {
    return withSecurityHeaders(Response.json({ error: verdict.error, message: verdict.message }, { status: verdict.status }), pathname);
  }
  // a page POST (server action) with a multipart body that does not parse would be a 500 in Next
  if (request.method === "POST" && !pathname.startsWith("/api/") && (request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
    const readable = await request.clone().formData().then(() => true, () => false);
    if (!readable) return withSecurityHeaders(Response.json({ error: "bad_request", message: "The form data could not be read." }, { status: 400 }), pathname);
  }
  const headers = new Headers(request.headers);
  // what this request is, for the Action Log row of a refused support write (never taken from the client)
  headers.set("x-sc-request", `${request.method} ${pathname}`);
  if (trustsForwardedHeaders()) {
    const unusable = unusableForwardedHeader(request.headers);
    if (unusable) return withSecurityHeaders(Response.json({ error: "bad_request", message: unusable }, { status: 400 }), pathname);
  } else {
    headers.set("x-forwarded-host", appUrl.host);
    headers.set("x-forwarded-proto", appUrl.protocol.replace(":", ""));
    headers.set("x-forwarded-port", appUrl.port || (appUrl.protocol === "https:" ? "443" : "80"));
  }
  return withSecurityHeaders(NextResponse.next({ request: { headers } }), pathname);
}

function wellFormedPath(pathname: string) {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/** Trusted forwarded headers still have to form a URL (next-auth builds its URLs from them). */
function unusableForwardedHeader(headers: Headers): string | null {
  const proto = headers.get("x-forwarded-proto");
  if (proto !== null && !/^https?$/i.test(proto.split(",")[0]!.trim())) return "X-Forwarded-Proto must be http or https.";
  const host = headers.get("x-forwarded-host");
  if (host === null) return null;
  try {
    new URL(`http://${host.split(",")[0]!.trim()}`);
    return null;
  } catch {
    return "X-Forwarded-Host is not a valid host.";
  }
}

function withSecurityHeaders<T extends Response>(response: T, pathname: string): T {
  const ancestors = ["'self'", ...frameAncestorOrigins()].join(" ");
  response.headers.set("Content-Security-Policy", `frame-ancestors ${ancestors}; base-uri 'self'; form-action 'self' ${formTargets()}; object-src 'none'`);
  // same-origin, not no-referrer: nothing leaves for another site (Sage, the portal), and a form posted
  // before hydration (a server action as a native POST) keeps its Origin header — under no-referrer
  // browsers send `Origin: null` there and Next refuses the action ("Invalid Server Actions request")
  response.headers.set("Referrer-Policy", "same-origin");
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  response.headers.delete("X-Frame-Options");
  if (process.env.NODE_ENV === "production") response.headers.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  if (pathname.startsWith("/api/")) response.headers.set("Cache-Control", "no-store");
  return response;
}

/** Server actions may redirect the browser to Sage's consent page. */
function formTargets() {
  try {
    return new URL(getConfig().sage.authorizeUrl).origin;
  } catch {
    return "";
  }
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
