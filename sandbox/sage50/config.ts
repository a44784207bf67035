// Settings of the Sage 50 Cloud (Connected Cloud) simulator: defaults, environment, options.
// Changed at run time by POST /control/sage50/config; not persisted (like the rest of the config).

export interface Sage50Config {
  /** Lifetime of a passcode (seconds). */
  passcodeTtlS: number;
  /** Lifetime of an API key from its grant or rotation (seconds). */
  apiKeyTtlS: number;
  /** Time an upload spends in each tracking stage (received, validating, processing). */
  trackingStepMs: number;
  /** Sign approval and notification calls (Standard Webhooks). */
  signCalls: boolean;
}

export const DEFAULT_SAGE50_CONFIG: Sage50Config = {
  passcodeTtlS: 600,
  apiKeyTtlS: 86_400,
  trackingStepMs: 1000,
  signCalls: true,
};

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

/** Options win over the environment, the environment over the defaults. */
export function resolveSage50Config(opts: Partial<Sage50Config> = {}): Sage50Config {
  return {
    passcodeTtlS: opts.passcodeTtlS ?? envNumber("SANDBOX_SAGE50_PASSCODE_TTL_S") ?? DEFAULT_SAGE50_CONFIG.passcodeTtlS,
    apiKeyTtlS: opts.apiKeyTtlS ?? envNumber("SANDBOX_SAGE50_API_KEY_TTL_S") ?? DEFAULT_SAGE50_CONFIG.apiKeyTtlS,
    trackingStepMs: opts.trackingStepMs ?? envNumber("SANDBOX_SAGE50_TRACKING_STEP_MS") ?? DEFAULT_SAGE50_CONFIG.trackingStepMs,
    signCalls: opts.signCalls ?? DEFAULT_SAGE50_CONFIG.signCalls,
  };
}
