// Sage Business Cloud Accounting OAuth 2.0 (authorization code only).
//   GET  /sage/oauth2/auth/central            consent page (real: www.sageone.com/oauth2/auth/central?filter=apiv3.1)
//   POST /sage/oauth2/auth/central/decision   Allow / Deny from the consent page
//   POST /sage/oauth/token                    token endpoint (real: oauth.accounting.sage.com/token)
import { timingSafeEqual } from "node:crypto";
import type { Sandbox } from "../context";
import { html as plainHtml, json, mediaType, redirect, type Reply } from "../http";
import { formOf, route, type RequestContext, type Route } from "../router";
import { randomToken } from "./ids";
import { consentPage, sageErrorPage } from "./pages";
import type { AccessToken, PendingAuthorization, RefreshToken, Scope } from "./world";

const COUNTRIES = ["ca", "de", "es", "fr", "gb", "ie", "us"];
const SCOPES: Scope[] = ["full_access", "readonly"];
const PENDING_TTL_MS = 30 * 60 * 1000;

/**
 * Sage's sign-in and consent pages refuse to be framed, like any identity provider's: a consent page
 * inside another site's frame invites clickjacking. Both headers, as real IdPs send them (CSP
 * `frame-ancestors 'none'` for current browsers, `X-Frame-Options: DENY` for old ones). Every HTML
 * page of the OAuth endpoints (consent, its error pages) goes out with them.
 */
export const FRAME_REFUSAL_HEADERS: Record<string, string> = {
  "content-security-policy": "frame-ancestors 'none'",
  "x-frame-options": "DENY",
};

function html(status: number, markup: string, headers: Record<string, string> = {}): Reply {
  return plainHtml(status, markup, { ...headers, ...FRAME_REFUSAL_HEADERS });
}

function pendingOf(sb: Sandbox): Map<string, PendingAuthorization> {
  return sb.sage.pendingAuthorizations;
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

function pluralBusinesses(n: number): string {
  return `${n} ${n === 1 ? "business" : "businesses"}`;
}

function authorizePage(ctx: RequestContext): Reply {
  const { sb, query } = ctx;
  const clientId = query.client_id;
  if (!clientId || clientId !== sb.opts.sageClientId) {
    return html(400, sageErrorPage("Unknown application", "The client_id is not recognised.", clientId ?? "(missing)"), {});
  }
  const redirectUri = query.redirect_uri;
  if (!redirectUri || !sb.config.redirectUris.includes(redirectUri)) {
    return html(
      400,
      sageErrorPage(
        "Invalid redirect URI",
        "The redirect_uri does not match any callback URL registered for this application (the match is exact, character for character).",
        redirectUri ?? "(missing)",
      ),
    );
  }
  if (query.response_type !== "code") {
    return html(
      400,
      sageErrorPage("Unsupported response type", "Only response_type=code is supported.", query.response_type ?? "(missing)"),
    );
  }
  const scope = (query.scope ?? "full_access") as Scope;
  if (!SCOPES.includes(scope)) {
    return redirect(
      withParams(redirectUri, {
        error: "invalid_scope",
        error_description: `Unknown scope "${query.scope}". Use full_access or readonly.`,
        state: query.state,
      }),
    );
  }
  const country = query.country?.toLowerCase();
  if (country !== undefined && !COUNTRIES.includes(country)) {
    return html(400, sageErrorPage("Unsupported country", "The country parameter is not one of ca, de, es, fr, gb, ie, us.", country));
  }
  const pending: PendingAuthorization = {
    id: randomToken(18),
    clientId,
    redirectUri,
    scope,
    state: query.state,
    country,
    createdAt: sb.now(),
  };
  const store = pendingOf(sb);
  for (const [k, p] of store) if (sb.now() - p.createdAt > PENDING_TTL_MS) store.delete(k);
  store.set(pending.id, pending);

  const users = [...sb.sage.users.values()].map((u) => ({
    id: u.id,
    label: `${sb.sage.userName(u)} (${pluralBusinesses(u.businessIds.length)})`,
    hint: `${u.email} · ${u.businessIds
      .map((id) => {
        const b = sb.sage.businesses.get(id);
        return b ? `${b.name} (${b.country})` : id;
      })
      .join(", ")}`,
  }));
  return html(
    200,
    consentPage({
      appName: sb.opts.sageAppName,
      scope,
      requestId: pending.id,
      users,
      action: "/sage/oauth2/auth/central/decision",
    }),
  );
}

function decision(ctx: RequestContext): Reply {
  const { sb } = ctx;
  const form = formOf(ctx);
  const store = pendingOf(sb);
  const pending = form.request_id ? store.get(form.request_id) : undefined;
  if (!pending || sb.now() - pending.createdAt > PENDING_TTL_MS) {
    return html(400, sageErrorPage("Session expired", "This sign-in request is unknown or has expired. Start again from the application."));
  }
  store.delete(pending.id);
  if (form.decision === "deny") {
    return redirect(
      withParams(pending.redirectUri, {
        error: "access_denied",
        error_description: "The user denied access to the application.",
        state: pending.state,
      }),
    );
  }
  if (form.decision !== "allow") {
    return html(400, sageErrorPage("Invalid request", "Choose Allow or Deny."));
  }
  const user = form.user ? sb.sage.users.get(form.user) : undefined;
  if (!user) return html(400, sageErrorPage("Invalid request", "Choose a Sage user to sign in as."));
  const lead = sb.sage.businesses.get(user.leadBusinessId);
  const country = pending.country ?? lead?.country.toLowerCase() ?? "gb";
  const code = randomToken(24);
  sb.sage.codes.set(code, {
    code,
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    userId: user.id,
    scope: pending.scope,
    country,
    expiresAt: sb.now() + sb.config.codeTtlSeconds * 1000,
    used: false,
  });
  return redirect(withParams(pending.redirectUri, { code, state: pending.state, country }));
}

function oauthError(status: number, error: string, description?: string, headers: Record<string, string> = {}): Reply {
  const body: Record<string, string> = { error };
  if (description) body.error_description = description;
  const r = json(status, body, { "cache-control": "no-store", pragma: "no-cache", ...headers });
  r.log = { error };
  return r;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function clientCredentials(ctx: RequestContext, form: Record<string, string>): { id?: string; secret?: string } {
  const auth = ctx.req.headers.authorization;
  if (auth && /^basic\s+/i.test(auth)) {
    const decoded = Buffer.from(auth.replace(/^basic\s+/i, ""), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i >= 0) {
      return {
        id: decodeURIComponent(decoded.slice(0, i)),
        secret: decodeURIComponent(decoded.slice(i + 1)),
      };
    }
  }
  return { id: form.client_id, secret: form.client_secret };
}

function issueTokens(sb: Sandbox, clientId: string, userId: string, scope: Scope): Reply {
  const now = sb.now();
  const access: AccessToken = {
    token: randomToken(32),
    clientId,
    userId,
    scope,
    issuedAt: now,
    expiresAt: now + sb.config.accessTokenTtlSeconds * 1000,
  };
  const refresh: RefreshToken = {
    token: randomToken(32),
    clientId,
    userId,
    scope,
    issuedAt: now,
    expiresAt: now + sb.config.refreshTokenTtlSeconds * 1000,
    used: false,
    revoked: false,
  };
  sb.sage.accessTokens.set(access.token, access);
  sb.sage.refreshTokens.set(refresh.token, refresh);
  return json(
    200,
    {
      access_token: access.token,
      token_type: "bearer",
      expires_in: sb.config.accessTokenTtlSeconds,
      refresh_token: refresh.token,
      refresh_token_expires_in: sb.config.refreshTokenTtlSeconds,
      scope,
      requested_by_id: userId,
    },
    { "cache-control": "no-store", pragma: "no-cache" },
  );
}

function token(ctx: RequestContext): Reply {
  const { sb } = ctx;
  if (mediaType(ctx.req) !== "application/x-www-form-urlencoded") {
    return oauthError(415, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.");
  }
  const form = formOf(ctx);
  const client = clientCredentials(ctx, form);
  if (
    !client.id ||
    !client.secret ||
    !safeEqual(client.id, sb.opts.sageClientId) ||
    !safeEqual(client.secret, sb.opts.sageClientSecret)
  ) {
    return oauthError(401, "invalid_client", undefined, { "www-authenticate": 'Basic realm="sage"' });
  }
  const grantType = form.grant_type;
  if (!grantType) return oauthError(400, "invalid_request", "grant_type is required.");
  const now = sb.now();

  if (grantType === "authorization_code") {
    // Everything between lookup and "used = true" is synchronous: no two requests can win.
    const code = form.code ? sb.sage.codes.get(form.code) : undefined;
    if (!code || code.used || code.expiresAt <= now || code.clientId !== client.id) {
      return oauthError(400, "invalid_grant");
    }
    if (form.redirect_uri !== code.redirectUri) return oauthError(400, "invalid_grant");
    code.used = true;
    return issueTokens(sb, client.id, code.userId, code.scope);
  }

  if (grantType === "refresh_token") {
    const rt = form.refresh_token ? sb.sage.refreshTokens.get(form.refresh_token) : undefined;
    if (!rt || rt.used || rt.revoked || rt.expiresAt <= now || rt.clientId !== client.id) {
      return oauthError(400, "invalid_grant");
    }
    rt.used = true; // rotation: the presented refresh token dies now
    return issueTokens(sb, client.id, rt.userId, rt.scope);
  }

  // Sage answers a wrong grant_type with invalid_grant (frequently raised errors page).
  return oauthError(400, "invalid_grant");
}

export const oauthRoutes: Route[] = [
  route("GET", "/sage/oauth2/auth/central", "sage.authorize", authorizePage),
  route("POST", "/sage/oauth2/auth/central/decision", "sage.authorize.decision", decision),
  route("POST", "/sage/oauth/token", "sage.token", token),
  route(["GET", "PUT", "PATCH", "DELETE"], "/sage/oauth/token", "sage.token", () =>
    oauthError(405, "invalid_request", "Use POST.", { allow: "POST" }),
  ),
];
