import type { SageError } from "./errors";
import type { SageRetryPolicy } from "./target";

/** How a target's client retries one call — the decisions every target shares. */
export type RetryPolicy = SageRetryPolicy;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  attemptTimeoutMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Exponential backoff with full jitter: random in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * cap);
}

/**
 * Decide whether a failed attempt may be repeated.
 * - 429 and 503: Sage did not do the work → retry any method (429 waits Retry-After when given).
 * - other 5xx, timeouts and resets: for GET always; for a write only when it carries an
 *   `idempotency_id` (Sage then answers a repeat with the first response and creates nothing).
 *   Without one the outcome is unknown and the caller must look the record up first.
 */
export function shouldRetry(error: SageError, ctx: { method: string; idempotent: boolean }): boolean {
  if (error.kind === "rate_limit") return true;
  if (error.kind === "retryable") return error.status === 503 || ctx.method === "GET" || ctx.idempotent;
  if (error.kind === "unknown_outcome") return ctx.idempotent;
  return false;
}

export function delayBeforeRetryMs(error: SageError, attempt: number, policy: RetryPolicy): number {
  if (error.kind === "rate_limit" && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  return backoffDelayMs(attempt, policy);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
