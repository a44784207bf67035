/**
 * next-auth's `logger`: what a visitor caused (a wrong password, a missing CSRF token, a malformed
 * or forged request, a tampered session cookie) is one line, `[auth] CredentialsSignin: …`; a fault
 * of ours keeps its stack. Nothing here prints request bodies, so no password or token is logged.
 */
const CAUSED_BY_THE_REQUEST = new Set([
  "CredentialsSignin",
  "MissingCSRF",
  "UnknownAction",
  "InvalidProvider",
  "InvalidCallbackUrl",
  "InvalidCheck",
  "JWTSessionError",
  "SessionTokenError",
  "AccessDenied",
  "Verification",
]);

type Line = (message: string) => void;

export function authErrorLine(error: Error): string | undefined {
  // next-auth's errors carry their kind in `type` (AuthError); matched by it, not by class identity
  const type = (error as { type?: unknown }).type;
  if (typeof type !== "string" || !CAUSED_BY_THE_REQUEST.has(type)) return undefined;
  const message = error.message.replace(/\.?\s*Read more at \S*\s*$/, "").trim();
  return `[auth] ${type}${message && message !== type ? `: ${message}` : ""}`;
}

export function authLogger(out: { warn: Line; error: (...args: unknown[]) => void } = console) {
  return {
    error(error: Error) {
      const line = authErrorLine(error);
      if (line) out.warn(line);
      else out.error("[auth][error]", error);
    },
    warn(code: string) {
      out.warn(`[auth][warn] ${code}`);
    },
    debug() {},
  };
}
