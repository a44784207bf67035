import { getConfig } from "@/lib/config";
import { SageError } from "../errors";
import { DEFAULT_RETRY_POLICY, delayBeforeRetryMs, shouldRetry, sleep } from "../retry";
import type { SageSession } from "../target";

/**
 * Calls to Sage 50 Cloud's Connected Cloud platform (docs/sage50-sandbox-contract.md): JSON over
 * HTTPS, the API key in `X-Api-Key`, every failure a SageError. A 401 goes once to the session's
 * `afterRejection` (the single-flight rotation) before it is an error.
 */

export function sage50Url(path: string): string {
  return `${getConfig().sage50.apiUrl}${path.startsWith("/") ? path : `/${path}`}`;
}

const DEFAULTS = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 300, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

async function errorOf(res: Response, what: string): Promise<SageError> {
  const body = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
  const code = body?.error ?? `HTTP ${res.status}`;
  const message = `${what}: ${body?.message ?? code}`;
  const s = res.status;
  if (s === 401 || s === 403) return new SageError("auth", message, { status: s, details: [{ message: code }] });
  if (s === 404) return new SageError("not_found", message, { status: s, details: [{ message: code }] });
  if (s === 400 || s === 409 || s === 422) return new SageError("validation", message, { status: s, details: [{ message: code }] });
  if (s === 429) return new SageError("rate_limit", message, { status: s, retryAfterMs: Number(res.headers.get("retry-after") ?? NaN) * 1000 || undefined });
  return new SageError("retryable", message, { status: s });
}

/** Unauthenticated calls (registration, application set-up, passcodes): `what` names the operation in errors. */
export async function sage50Call<T>(method: string, path: string, body: unknown, what: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(sage50Url(path), { method, headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(DEFAULTS.attemptTimeoutMs) });
  } catch (cause) {
    throw new SageError(method === "GET" ? "retryable" : "unknown_outcome", `${what}: Sage 50 Cloud could not be reached`, { cause });
  }
  if (!res.ok) throw await errorOf(res, what);
  return (await res.json().catch((cause: unknown) => {
    throw new SageError("unknown_outcome", `${what}: Sage 50 Cloud's answer was cut off`, { cause });
  })) as T;
}

export type KeyedResponse = { status: number; body: unknown };

/**
 * A call with the connection's API key: paced by the session, retried by error kind (a write whose
 * outcome is unknown is not repeated here — the caller looks it up), 404 and 409 handed back as
 * answers (`accept`) when the caller expects them.
 */
export async function sage50KeyedCall(session: SageSession, method: string, pathOrUrl: string, body: unknown, what: string, accept: number[] = []): Promise<KeyedResponse> {
  const policy = { ...DEFAULTS, ...session.policy };
  const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : sage50Url(pathOrUrl);
  let grant = await session.credentials.current();
  let rotated = false;
  for (let attempt = 1; ; attempt++) {
    await session.beforeAttempt?.();
    let error: SageError;
    try {
      const res = await fetch(url, {
        method,
        headers: { "x-api-key": grant.accessToken, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(policy.attemptTimeoutMs),
      });
      if (res.ok || accept.includes(res.status)) {
        const text = await res.text();
        try {
          return { status: res.status, body: text ? JSON.parse(text) : null };
        } catch (cause) {
          throw new SageError(method === "GET" ? "retryable" : "unknown_outcome", `${what}: Sage 50 Cloud's answer was unreadable`, { cause });
        }
      }
      if (res.status === 401 && !rotated) {
        // expired (or already replaced by a rotation another caller made meanwhile): the single-flight
        // rotation hands over the current key — rotating only when the stored key is the one refused
        await res.body?.cancel();
        rotated = true;
        grant = await session.credentials.afterRejection(grant.accessToken);
        attempt--;
        continue;
      }
      error = await errorOf(res, what);
      if (error.kind === "auth") throw new SageError("auth", `${what}: Sage 50 Cloud refused the API key`, { status: error.status, details: error.details, reconnectRequired: true });
    } catch (cause) {
      if (cause instanceof SageError) {
        if (cause.kind !== "retryable" || attempt >= policy.maxAttempts) throw cause;
        error = cause;
      } else {
        const timedOut = (cause as Error)?.name === "TimeoutError";
        error = new SageError(method === "GET" ? "retryable" : "unknown_outcome", `${what}: ${timedOut ? "no answer from" : "connection lost to"} Sage 50 Cloud`, { cause });
      }
    }
    // no idempotency key travels with an upload: a write whose outcome is unknown is the caller's to look up
    if (attempt >= policy.maxAttempts || !shouldRetry(error, { method, idempotent: false })) throw error;
    await sleep(delayBeforeRetryMs(error, attempt, policy));
  }
}
