import type { SageError } from "./errors";

export type SageTargetId = "sage-accounting";

export type SageTokenSet = {
  accessToken: string;
  refreshToken: string;
  /** seconds */
  expiresIn: number;
  /** seconds */
  refreshTokenExpiresIn: number;
  scope?: string;
  sageUserId?: string;
};

export type SageBusiness = { id: string; name: string; country?: string | null };

export type Country = { code: string; label: string };

/**
 * What every Sage product we connect to offers the rest of the app. One folder per target under
 * lib/sage/<target>/ implements it; errors are always `SageError`.
 */
export interface SageTarget {
  id: SageTargetId;
  label: string;
  countries: Country[];
  /** calls per period, per business; the sync engine throttles to this */
  rateLimit: { limit: number; periodSeconds: number };
  authorizationUrl(params: { state: string; country: string; redirectUri: string }): string;
  exchangeCode(params: { code: string; redirectUri: string }): Promise<SageTokenSet>;
  refreshTokens(refreshToken: string): Promise<SageTokenSet>;
  listBusinesses(accessToken: string): Promise<SageBusiness[]>;
}

export type { SageError };
