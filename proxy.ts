import { NextResponse, type NextRequest } from "next/server";
import { frameAncestorOrigins } from "@/lib/config";

/**
 * Security headers, decided at run time (next.config headers() would freeze them at build time).
 * Framing is allowed only for the configured marketplace origin(s) via CSP frame-ancestors; no
 * X-Frame-Options (it would block the marketplace portal).
 */
export function proxy(_request: NextRequest) {
  const response = NextResponse.next();
  const ancestors = ["'self'", ...frameAncestorOrigins()].join(" ");
  response.headers.set("Content-Security-Policy", `frame-ancestors ${ancestors}; base-uri 'self'; form-action 'self' ${formTargets()}; object-src 'none'`);
  response.headers.set("Referrer-Policy", "no-referrer");
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  response.headers.delete("X-Frame-Options");
  return response;
}

/** Server actions may redirect the browser to Sage's consent page. */
function formTargets() {
  const authorize = process.env.SAGE_AUTHORIZE_URL ?? process.env.SANDBOX_URL ?? "http://localhost:4010";
  try {
    return new URL(authorize).origin;
  } catch {
    return "";
  }
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
