import type { Database } from "@/db/client";
import { getConfig } from "@/lib/config";
import { findInstallation } from "@/lib/install/install";
import { issueOAuthState } from "./state";
import { TENANT_CALLBACK_PATH } from "./redirector";

export type RedirectValidation = {
  redirectUrl: string;
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
};

/**
 * "Validate redirect URL" self-test: shows the exact URL to register at Sage and round-trips a
 * signed test state through `/oauth2redirect` to this brand's callback, which burns it.
 */
export async function validateRedirectUrl(db: Database, input: { tenantId: string; userId: string }): Promise<RedirectValidation> {
  const config = getConfig();
  const redirectUrl = config.oauthRedirectUrl;
  const checks: RedirectValidation["checks"] = [];
  const url = new URL(redirectUrl);
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  checks.push({
    name: "https (or localhost)",
    ok: url.protocol === "https:" || local,
    detail: url.protocol === "https:" ? "The URL uses https." : local ? "localhost may use http (development only)." : "Sage accepts only https callback URLs.",
  });
  const installation = await findInstallation(db, input.tenantId);
  const state = await db.transaction((tx) =>
    issueOAuthState(tx, { purpose: "validate_redirect", tenantId: input.tenantId, installationId: installation?.id ?? null, userId: input.userId, brandId: installation?.brandId }),
  );
  const probe = new URL(redirectUrl);
  probe.searchParams.set("state", state);
  probe.searchParams.set("code", "self-test");
  try {
    const res = await fetch(probe, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
    const location = res.headers.get("location");
    const brandBase = config.brands[installation?.brandId ?? config.defaultBrandId];
    const expected = brandBase ? new URL(TENANT_CALLBACK_PATH, brandBase) : null;
    const forwarded = location ? new URL(location, redirectUrl) : null;
    const reachedBrand = !!forwarded && !!expected && forwarded.origin === expected.origin && forwarded.pathname === expected.pathname;
    const stateIntact = forwarded?.searchParams.get("state") === state;
    checks.push({ name: "Redirector answers", ok: res.status >= 300 && res.status < 400, detail: `HTTP ${res.status} from ${redirectUrl}` });
    checks.push({ name: "Forwards to this brand's callback", ok: reachedBrand, detail: forwarded ? forwarded.origin + forwarded.pathname : "no Location header" });
    checks.push({ name: "Signed state round-trips unchanged", ok: stateIntact, detail: stateIntact ? "state verified and forwarded" : "state lost or changed" });
  } catch (e) {
    checks.push({ name: "Redirector answers", ok: false, detail: `Could not reach ${redirectUrl}: ${(e as Error).message}` });
  }
  return { redirectUrl, ok: checks.every((c) => c.ok), checks };
}
