/**
 * One error type for every Sage target, with a taxonomy callers decide on by kind:
 * - `auth`            token rejected: refresh, or (reconnectRequired) the reseller must reconnect
 * - `validation`      Sage refused the data; `source` names Sage's field, `message` is Sage's own text
 * - `rate_limit`      429; `retryAfterMs` when Sage said how long to wait
 * - `not_found`       the record or path does not exist
 * - `retryable`       5xx / network trouble before the request was applied
 * - `unknown_outcome` the request may have been applied (timeout / reset after sending a write)
 */
export type SageErrorKind = "auth" | "validation" | "rate_limit" | "not_found" | "retryable" | "unknown_outcome";

export type SageErrorDetail = { severity?: string; dataCode?: string; message: string; source?: string };

export class SageError extends Error {
  readonly kind: SageErrorKind;
  readonly status?: number;
  readonly details: SageErrorDetail[];
  readonly retryAfterMs?: number;
  /** auth only: the grant is gone (invalid_grant); only the reseller can fix it by reconnecting */
  readonly reconnectRequired: boolean;

  constructor(
    kind: SageErrorKind,
    message: string,
    opts: { status?: number; details?: SageErrorDetail[]; retryAfterMs?: number; reconnectRequired?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "SageError";
    this.kind = kind;
    this.status = opts.status;
    this.details = opts.details ?? [];
    this.retryAfterMs = opts.retryAfterMs;
    this.reconnectRequired = opts.reconnectRequired ?? false;
  }

  get retryable(): boolean {
    return this.kind === "retryable" || this.kind === "rate_limit";
  }
}

export function isSageError(e: unknown): e is SageError {
  return e instanceof SageError;
}
