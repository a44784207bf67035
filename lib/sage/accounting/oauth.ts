import { z } from "zod";
import { getConfig } from "@/lib/config";
import { SageError } from "../errors";
import type { SageTokenSet } from "../target";

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
  refresh_token_expires_in: z.coerce.number().int().positive().optional(),
  scope: z.string().optional(),
  requested_by_id: z.string().optional(),
});

/** Sage's authorize URL (`/oauth2/auth/central?filter=apiv3.1`) with our parameters added. */
export function buildAuthorizationUrl(params: { state: string; country: string; redirectUri: string }): string {
  const { sage } = getConfig();
  const url = new URL(sage.authorizeUrl);
  if (!url.searchParams.has("filter")) url.searchParams.set("filter", "apiv3.1");
  url.searchParams.set("client_id", sage.clientId);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("scope", "full_access");
  url.searchParams.set("state", params.state);
  url.searchParams.set("country", params.country);
  return url.toString();
}

/** POST to Sage's token endpoint (form-encoded). `invalid_grant` → SageError auth + reconnectRequired. */
async function requestTokens(form: Record<string, string>): Promise<SageTokenSet> {
  const { sage } = getConfig();
  let res: Response;
  try {
    res = await fetch(sage.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ ...form, client_id: sage.clientId, client_secret: sage.clientSecret }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (cause) {
    // the refresh may have been applied by Sage (rotated) even though we saw no answer
    throw new SageError("unknown_outcome", "No answer from Sage's token endpoint", { cause });
  }
  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    // the answer broke off mid-body: Sage may have rotated the refresh token all the same
    throw new SageError("unknown_outcome", "Sage's token endpoint's answer was cut off", { status: res.status, cause });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = (body as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`;
    if (error === "invalid_grant") {
      throw new SageError("auth", "Sage rejected the authorization grant (invalid_grant)", { status: res.status, reconnectRequired: true });
    }
    if (res.status === 429) throw new SageError("rate_limit", "Sage's token endpoint is rate limiting", { status: 429 });
    if (res.status >= 500) throw new SageError("retryable", `Sage's token endpoint failed (${res.status})`, { status: res.status });
    throw new SageError("auth", `Sage's token endpoint refused the request: ${error}`, { status: res.status, reconnectRequired: res.status === 401 });
  }
  const parsed = tokenResponseSchema.safeParse(body);
  if (!parsed.success) throw new SageError("retryable", "Sage's token endpoint answered with an unexpected body");
  const t = parsed.data;
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    expiresIn: t.expires_in,
    refreshTokenExpiresIn: t.refresh_token_expires_in ?? 31 * 24 * 3600,
    scope: t.scope,
    sageUserId: t.requested_by_id,
  };
}

export function exchangeAuthorizationCode(params: { code: string; redirectUri: string }) {
  return requestTokens({ grant_type: "authorization_code", code: params.code, redirect_uri: params.redirectUri });
}

export function refreshAccessToken(refreshToken: string) {
  return requestTokens({ grant_type: "refresh_token", refresh_token: refreshToken });
}
