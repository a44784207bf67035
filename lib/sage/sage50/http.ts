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
  const requestBody = body === undefined ? null : JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    await session.beforeAttempt?.();
    const startedAt = new Date();
    const t0 = performance.now();
    let answered: number | null = null;
    let answerText: string | null = null;
    let observed = false;
    // the order trace's observer: once per attempt, never in the way of the call
    const observe = (status: number | null, failure: SageError | null, responseBody: string | null) => {
      if (!session.onAttempt || observed) return;
      observed = true;
      try {
        session.onAttempt({ target: "sage-50-cloud", startedAt, method, url, status, durationMs: Math.round(performance.now() - t0), attempt, errorKind: failure?.kind ?? null, errorMessage: failure?.message ?? null, requestBody, responseBody });
      } catch {
        // recording never fails a call
      }
    };
    let error: SageError;
    try {
      const res = await fetch(url, {
        method,
        headers: { "x-api-key": grant.accessToken, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: requestBody ?? undefined,
        signal: AbortSignal.timeout(policy.attemptTimeoutMs),
      });
      answered = res.status;
      if (res.ok || accept.includes(res.status)) {
        const text = await res.text();
        answerText = text;
        try {
          const parsed = { status: res.status, body: text ? JSON.parse(text) : null };
          observe(res.status, null, text);
          return parsed;
        } catch (cause) {
          throw new SageError(method === "GET" ? "retryable" : "unknown_outcome", `${what}: Sage 50 Cloud's answer was unreadable`, { cause });
        }
      }
      const errorText = session.onAttempt ? await res.clone().text().catch(() => null) : null;
      answerText = errorText;
      if (res.status === 401 && !rotated) {
        observe(401, new SageError("auth", "Sage 50 Cloud refused the API key; rotating it once"), errorText);
        // expired (or already replaced by a rotation another caller made meanwhile): the single-flight
        // rotation hands over the current key — rotating only when the stored key is the one refused
        await res.body?.cancel();
        rotated = true;
        grant = await session.credentials.afterRejection(grant.accessToken);
        attempt--;
        continue;
      }
      error = await errorOf(res, what);
      observe(res.status, error, errorText);
      if (error.kind === "auth") throw new SageError("auth", `${what}: Sage 50 Cloud refused the API key`, { status: error.status, details: error.details, reconnectRequired: true });
    } catch (cause) {
      if (cause instanceof SageError) {
        observe(answered, cause, answerText);
        if (cause.kind !== "retryable" || attempt >= policy.maxAttempts) throw cause;
        error = cause;
      } else {
        const timedOut = (cause as Error)?.name === "TimeoutError";
        error = new SageError(method === "GET" ? "retryable" : "unknown_outcome", `${what}: ${timedOut ? "no answer from" : "connection lost to"} Sage 50 Cloud`, { cause });
        observe(answered, error, null);
      }
    }
    // no idempotency key travels with an upload: a write whose outcome is unknown is the caller's to look up
    if (attempt >= policy.maxAttempts || !shouldRetry(error, { method, idempotent: false })) throw error;
    await sleep(delayBeforeRetryMs(error, attempt, policy));
  }
}
