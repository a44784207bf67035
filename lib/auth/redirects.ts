/**
 * Where the browser may be sent after sign-in: same-origin paths only. Anything a browser could read
 * as another host is refused — `//host`, `/\host`, `/<TAB>/host` (browsers drop tabs and newlines in
 * URLs and read `\` as `/`), absolute URLs to other origins — and the fallback is used instead.
 */
export function safeAppPath(raw: unknown, appOrigin: string, fallback = "/dashboard"): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048) return fallback;
  let candidate = raw;
  if (!candidate.startsWith("/")) {
    // an absolute URL is accepted only on our own origin (next-auth passes `${baseUrl}/path`)
    try {
      const url = new URL(candidate);
      if (url.origin !== appOrigin) return fallback;
      candidate = url.pathname + url.search + url.hash;
    } catch {
      return fallback;
    }
  }
  // control characters, spaces and backslashes have no place in our paths
  if (/[\u0000-\u0020\u007f\\]/.test(candidate)) return fallback;
  if (candidate.startsWith("//")) return fallback;
  let resolved: URL;
  try {
    resolved = new URL(candidate, appOrigin);
  } catch {
    return fallback;
  }
  if (resolved.origin !== appOrigin) return fallback;
  // dot segments can resolve to `//host` (`/.//evil.test`): never hand out a protocol-relative path
  if (resolved.pathname.startsWith("//")) return fallback;
  return resolved.pathname + resolved.search + resolved.hash;
}

/**
 * A "Back to tasks" target carried in `?from=` (the Tasks page's "Fix this" links): a same-origin
 * path on the Tasks page, with its filters, or undefined.
 */
export function tasksBackPath(raw: unknown): string | undefined {
  const origin = "http://app.invalid";
  const path = safeAppPath(raw, origin, "");
  return /^\/tasks(\?|$)/.test(path) ? path : undefined;
}
