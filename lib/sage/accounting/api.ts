import createClient, { type Client } from "openapi-fetch";
import { getConfig } from "@/lib/config";
import { SageError } from "../errors";
import type { SageSession } from "../target";
import type { paths as AccountingPaths } from "./generated/accounting";
import type { paths as UserBusinessPaths } from "./generated/user-businesses";
import { sageErrorFromResponse } from "./http";
import { DEFAULT_RETRY_POLICY, delayBeforeRetryMs, shouldRetry, sleep } from "../retry";

export type SageAccountingPaths = AccountingPaths & UserBusinessPaths;
export type SageAccountingClient = Client<SageAccountingPaths>;

/** The paging envelope Sage wraps list answers in (the published description models bare arrays). */
export type SagePage<T> = {
  $total: number;
  $page: number;
  $next: string | null;
  $back: string | null;
  $itemsPerPage?: number;
  $items: T[];
};

/** Credentials, pacing and retries for one connection, handed in by the caller (lib/sage/ knows no database). */
export type SageClientOptions = SageSession;

/** A lapsed subscription is answered 401 too, but a new token will not help (consumes the body only then). */
async function isSubscriptionLapse(res: Response): Promise<boolean> {
  const text = await res.clone().text().catch(() => "");
  const lapsed = text.includes("No active subscription");
  if (!lapsed) await res.body?.cancel();
  return lapsed;
}

/** A 2xx whose body could not be used (marker, classified like a dropped connection). */
class TransportBodyError extends Error {}

function bodyHasIdempotencyId(text: string | null): boolean {
  return !!text && /"idempotency_id"\s*:\s*"[0-9a-fA-F]{32}"/.test(text);
}

/**
 * The transport under the typed client: bearer token (refreshed before expiry, and once on 401
 * through the single-flight refresh), `X-Business` on every call, retries by error kind, and every
 * failure turned into a `SageError`.
 */
export function sageTransport(opts: SageClientOptions, transportOpts: { expectJson?: boolean } = {}): (request: Request) => Promise<Response> {
  // openapi-fetch reads the body after the transport returns: read it here, inside the retry loop,
  // so an answer cut off mid-body (or a 2xx that is not JSON) is classified and retried like any
  // other transport failure instead of escaping as `TypeError: terminated`.
  const send = sageSender(opts, { readBody: true, expectJson: transportOpts.expectJson });
  return async (request: Request) => {
    const method = request.method.toUpperCase();
    const bodyText = method === "GET" || method === "HEAD" ? null : await request.text();
    return send(method, request.url, bodyText, request.headers);
  };
}

/**
 * The transport itself, for callers that already hold the JSON text (the sync engine's write loop):
 * `send(method, url, bodyText)` → the OK response, or a `SageError`.
 */
export function sageSender(
  opts: SageClientOptions,
  sendOpts: {
    /**
     * Read (and, when it says JSON, parse-check) the OK body inside the retry loop and return a
     * buffered copy. Off for the write loop's fast path, which reads created bodies itself.
     */
    readBody?: boolean;
    /**
     * With readBody: a non-empty OK body must be JSON whatever its content type says (the typed
     * client parses every answer as JSON; an HTML page from a proxy would escape as a SyntaxError).
     */
    expectJson?: boolean;
  } = {},
): (method: string, url: string, bodyText: string | null, extraHeaders?: Headers) => Promise<Response> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  return async (method, url, bodyText, extraHeaders) => {
    const idempotent = (opts.retryUnknownWrites ?? true) && bodyHasIdempotencyId(bodyText);
    let token = await opts.credentials.current();
    let refreshedOn401 = false;
    for (let attempt = 1; ; attempt++) {
      await opts.beforeAttempt?.();
      const startedAt = new Date();
      const t0 = performance.now();
      let answered: number | null = null;
      // the order trace's observer: once per attempt, never in the way of the call
      const observe = (status: number | null, failure: SageError | null, responseBody: string | null | Promise<string | null>) => {
        if (!opts.onAttempt) return;
        try {
          opts.onAttempt({ target: "sage-accounting", startedAt, method, url, status, durationMs: Math.round(performance.now() - t0), attempt, errorKind: failure?.kind ?? null, errorMessage: failure?.message ?? null, requestBody: bodyText, responseBody });
        } catch {
          // recording never fails a call
        }
      };
      const headers: Record<string, string> = extraHeaders ? Object.fromEntries(extraHeaders.entries()) : {};
      headers["authorization"] = `Bearer ${token.accessToken}`;
      headers["accept"] = "application/json";
      if (token.businessId) headers["x-business"] = token.businessId;
      if (bodyText !== null) headers["content-type"] = "application/json";
      let error: SageError;
      try {
        const res = await fetch(url, { method, headers, body: bodyText, signal: AbortSignal.timeout(policy.attemptTimeoutMs) });
        answered = res.status;
        if (res.ok) {
          if (!sendOpts.readBody) {
            observe(res.status, null, opts.onAttempt ? res.clone().text().catch(() => null) : null);
            return res;
          }
          const text = await res.text(); // a body cut off mid-read throws here → classified below
          if (text && (sendOpts.expectJson || /json/i.test(res.headers.get("content-type") ?? ""))) {
            try {
              JSON.parse(text);
            } catch (cause) {
              throw new TransportBodyError(`Sage answered ${method} ${new URL(url).pathname} with unreadable JSON (HTTP ${res.status})`, { cause });
            }
          }
          observe(res.status, null, text);
          return new Response(res.status === 204 || res.status === 205 || res.status === 304 ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
        }
        const errorText = opts.onAttempt ? await res.clone().text().catch(() => null) : null;
        if (res.status === 401 && !refreshedOn401 && !(await isSubscriptionLapse(res))) {
          observe(401, new SageError("auth", "Sage refused the access token; refreshing it once"), errorText);
          refreshedOn401 = true;
          token = await opts.credentials.afterRejection(token.accessToken);
          attempt--; // a refresh is not a retry
          continue;
        }
        error = await sageErrorFromResponse(res);
        observe(res.status, error, errorText);
      } catch (cause) {
        if (cause instanceof SageError) throw cause;
        const timedOut = (cause as Error)?.name === "TimeoutError";
        const what = cause instanceof TransportBodyError ? cause.message : `${timedOut ? "No answer within" : "Connection lost during"} ${method} ${new URL(url).pathname}`;
        // a write that got no (whole) answer may have been applied; a read is safe to repeat
        error = new SageError(method === "GET" || method === "HEAD" ? "retryable" : "unknown_outcome", what, { cause: cause instanceof TransportBodyError ? cause.cause : cause });
        observe(answered, error, null);
      }
      if (attempt >= policy.maxAttempts || !shouldRetry(error, { method, idempotent })) throw error;
      await sleep(delayBeforeRetryMs(error, attempt, policy));
    }
  };
}

/** A typed client for one connection, generated from Sage's published description. */
export function createSageAccountingClient(opts: SageClientOptions): SageAccountingClient {
  return createClient<SageAccountingPaths>({ baseUrl: getConfig().sage.apiUrl, fetch: sageTransport(opts, { expectJson: true }) });
}

/** openapi-fetch answers `{ data, error }`; the transport already threw on errors, so unwrap. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new SageError("retryable", `Unexpected answer from Sage (HTTP ${result.response.status})`, { status: result.response.status });
  }
  return result.data;
}

/**
 * Every item of a list, following `$next` page by page (Sage returns `$next` relative to the API
 * root, `null` on the last page).
 */
export async function* iterateSagePages<T>(client: SageAccountingClient, firstPath: string): AsyncGenerator<T, void, undefined> {
  let next: string | null = firstPath;
  const seen = new Set<string>();
  while (next) {
    if (seen.has(next)) throw new SageError("retryable", `Sage paging loops at ${next}`);
    seen.add(next);
    const path: string = next.replace(/^\/v3\.1(?=\/)/, "");
    const result = await (client.GET as unknown as (p: string) => Promise<{ data?: SagePage<T>; error?: unknown; response: Response }>)(path);
    const page = unwrap(result);
    // a 2xx that is JSON but not a page (null, a bare value, an error object) is an answer we cannot use
    if (!page || typeof page !== "object" || ("$items" in page && !Array.isArray(page.$items))) {
      throw new SageError("retryable", `Sage answered GET ${path.split("?")[0]} with something that is not a list page (HTTP ${result.response.status})`, { status: result.response.status });
    }
    for (const item of page.$items ?? []) yield item;
    next = page.$next;
  }
}

export async function collectSagePages<T>(client: SageAccountingClient, firstPath: string): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterateSagePages<T>(client, firstPath)) out.push(item);
  return out;
}

/** Every create carries the caller's `idempotency_id` (32 hex chars) inside the resource namespace. */
export function withIdempotencyId<K extends string, B extends Record<string, unknown>>(resource: K, body: B, idempotencyId: string): { [P in K]: B & { idempotency_id: string } } {
  if (!/^[0-9a-f]{32}$/i.test(idempotencyId)) throw new Error(`idempotency_id must be 32 hex characters, got “${idempotencyId}”`);
  return { [resource]: { ...body, idempotency_id: idempotencyId } } as { [P in K]: B & { idempotency_id: string } };
}
