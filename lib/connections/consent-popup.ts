import { createHmac, randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Database } from "@/db/client";
import { launchTokenUses, oauthStates, users } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { isStorableText } from "@/lib/http/storable-json";
import type { Actor } from "@/lib/log/action-log";
import { TENANT_CALLBACK_PATH } from "@/lib/oauth/redirector";
import { OAuthStateError, verifyOAuthState } from "@/lib/oauth/state";
import { completeSageAuthorization, pathAfterAuthorization, startSageAuthorization, type CallbackOutcome, type StartAuthorizationInput } from "./authorize";

/**
 * Consent in a popup, for the Connect page inside the marketplace's iframe.
 *
 * Sage's sign-in refuses to be framed, so the framed page opens consent in a popup. The popup is a
 * top-level window on the app's origin and does NOT see the framed session (that cookie is
 * `Partitioned`, keyed by the portal's site). So the flow is bound to the browser another way:
 *
 * 1. the framed page (session: reseller admin) starts the authorization as today — signed, single-use
 *    OAuth state with its nonce row — and gets a **consent ticket**: a signed JWT, valid 2 minutes,
 *    single use (its jti), naming the tenant, the state's nonce and Sage's consent URL;
 * 2. it hands the ticket to the popup it opened, by postMessage (lib/oauth/consent-messages.ts);
 * 3. the popup POSTs it to /api/connect/consent-ticket: the ticket is burned and a first-party
 *    **binding cookie** is set (httpOnly, SameSite=Lax, Secure on https, path = the callback) holding a
 *    signed {tenant, nonce}; the popup goes to Sage;
 * 4. the callback (in the popup) takes the tenant from the binding only when the binding's nonce and
 *    tenant are the state's; the state is then consumed as always (signature, expiry, single use).
 *
 * A stranger's Sage consent URL completed in a victim's browser finds no binding for its state (and no
 * session of the stranger's tenant), so it is refused. The ticket never appears in a URL.
 */
export const CONSENT_TICKET_TTL_SECONDS = 120;
export const CONSENT_BINDING_COOKIE = "sc.consent-binding";
export const CONSENT_BINDING_COOKIE_PATH = TENANT_CALLBACK_PATH;

const TICKET_AUDIENCE = "sage-connector/consent-ticket";
const BINDING_AUDIENCE = "sage-connector/consent-binding";
/** launch_token_uses holds single-use JWT ids; consent tickets share it under their own namespace. */
const TICKET_USE_NAMESPACE = "consent-ticket";

export type ConsentTicketFailure = "invalid" | "expired" | "used" | "support";

export class ConsentTicketError extends Error {
  constructor(readonly reason: ConsentTicketFailure) {
    super(
      {
        invalid: "This Sage sign-in window was not opened by Sage Connector's Connect page. Close it and click Connect to Sage again.",
        expired: "This Sage sign-in window waited too long and expired. Close it and click Connect to Sage again.",
        used: "This Sage sign-in window was already used. Close it and click Connect to Sage again.",
        support: "Support staff cannot authorize Sage for a reseller; the reseller must do it.",
      }[reason],
    );
    this.name = "ConsentTicketError";
  }
}

/** Keys for tickets and bindings, derived from the state secret (one secret to manage, separate keys per use). */
function keyFor(use: string) {
  return new Uint8Array(createHmac("sha256", getConfig().oauthStateSecret).update(`sage-connector/${use}`).digest());
}

/** Step 1 of the popup flow: a fresh OAuth state (as today) and the single-use ticket that carries it to the popup. */
export async function startSageAuthorizationInPopup(db: Database, input: StartAuthorizationInput): Promise<{ ticket: string; expiresInSeconds: number }> {
  const consentUrl = await startSageAuthorization(db, input);
  const claims = await verifyOAuthState(new URL(consentUrl).searchParams.get("state"));
  const ticket = await new SignJWT({ tenant: input.tenantId, nonce: claims.nonce, url: consentUrl })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(TICKET_AUDIENCE)
    .setJti(randomBytes(16).toString("hex"))
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + CONSENT_TICKET_TTL_SECONDS)
    .sign(keyFor("consent-ticket"));
  return { ticket, expiresInSeconds: CONSENT_TICKET_TTL_SECONDS };
}

export type ConsentBinding = { value: string; expiresAt: Date };

/**
 * Step 3: the popup redeems its ticket. Refused (nothing stored, no binding) when it is not ours,
 * expired, already used, or its OAuth state is gone (used or expired); a support session is refused
 * outright. Returns Sage's consent URL and the binding cookie's value.
 */
export async function redeemConsentTicket(db: Database, input: { ticket: string; supportSession?: boolean }): Promise<{ consentUrl: string; binding: ConsentBinding }> {
  if (input.supportSession) throw new ConsentTicketError("support");
  let claims: { tenant: string; nonce: string; url: string; jti: string; exp: number };
  try {
    const { payload } = await jwtVerify(input.ticket, keyFor("consent-ticket"), { audience: TICKET_AUDIENCE, algorithms: ["HS256"] });
    const { tenant, nonce, url, jti, exp } = payload as Record<string, unknown>;
    if (typeof tenant !== "string" || typeof nonce !== "string" || typeof url !== "string" || typeof jti !== "string" || typeof exp !== "number") throw new ConsentTicketError("invalid");
    if (![tenant, nonce, url, jti].every(isStorableText)) throw new ConsentTicketError("invalid");
    claims = { tenant, nonce, url, jti, exp };
  } catch (e) {
    if (e instanceof ConsentTicketError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new ConsentTicketError("expired");
    throw new ConsentTicketError("invalid");
  }
  return db.transaction(async (tx) => {
    const now = new Date();
    // the state it carries must still be pending, for the tenant it names
    const [state] = await tx
      .select({ expiresAt: oauthStates.expiresAt })
      .from(oauthStates)
      .where(and(eq(oauthStates.nonce, claims.nonce), eq(oauthStates.tenantId, claims.tenant), isNull(oauthStates.usedAt), gt(oauthStates.expiresAt, now)));
    if (!state) throw new ConsentTicketError("expired");
    const burned = await tx
      .insert(launchTokenUses)
      .values({ jti: `${TICKET_USE_NAMESPACE}:${claims.jti}`, marketplaceId: TICKET_USE_NAMESPACE, expiresAt: new Date(claims.exp * 1000) })
      .onConflictDoNothing()
      .returning();
    if (burned.length === 0) throw new ConsentTicketError("used");
    const value = await new SignJWT({ tenant: claims.tenant, nonce: claims.nonce })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience(BINDING_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(state.expiresAt.getTime() / 1000))
      .sign(keyFor("consent-binding"));
    return { consentUrl: claims.url, binding: { value, expiresAt: state.expiresAt } };
  });
}

export type BindingResolution =
  | { ok: true; tenantId: string; actor: Actor }
  | { ok: false; reason: "invalid" | "mismatch" | "no_user"; message: string };

/**
 * Step 4, before the callback completes anything: does this browser's binding cookie belong to the
 * state Sage sent back? Yes → the tenant and the reseller admin who started it. Reads only.
 */
export async function resolveConsentBinding(db: Database, input: { binding: string; state: string | null }): Promise<BindingResolution> {
  const refused = (reason: "invalid" | "mismatch" | "no_user"): BindingResolution => ({
    ok: false,
    reason,
    message:
      reason === "mismatch"
        ? "This answer from Sage belongs to a sign-in that was not started in this browser window. Nothing was stored. Start the connection from Sage Connector's Connect page."
        : reason === "no_user"
          ? "The reseller administrator who started this sign-in can no longer authorize Sage. Nothing was stored."
          : "This Sage sign-in window's binding is not valid or has expired. Nothing was stored. Start the connection again from Sage Connector's Connect page.",
  });
  let bound: { tenant: string; nonce: string };
  try {
    const { payload } = await jwtVerify(input.binding, keyFor("consent-binding"), { audience: BINDING_AUDIENCE, algorithms: ["HS256"] });
    if (typeof payload.tenant !== "string" || typeof payload.nonce !== "string") return refused("invalid");
    bound = { tenant: payload.tenant, nonce: payload.nonce };
  } catch {
    return refused("invalid");
  }
  let state;
  try {
    // expiry and single use are the callback's to report (it consumes the state); here: whose is it
    state = await verifyOAuthState(input.state, { allowExpired: true });
  } catch (e) {
    if (e instanceof OAuthStateError) return refused("mismatch");
    throw e;
  }
  if (state.nonce !== bound.nonce || state.tenant !== bound.tenant) return refused("mismatch");
  const [row] = await db
    .select({ id: users.id, name: users.name, email: users.email, role: users.role, tenantId: users.tenantId })
    .from(oauthStates)
    .innerJoin(users, eq(users.id, oauthStates.userId))
    .where(eq(oauthStates.nonce, bound.nonce));
  if (!row || row.role !== "reseller_admin" || row.tenantId !== bound.tenant) return refused("no_user");
  return { ok: true, tenantId: bound.tenant, actor: { type: "user", id: row.id, label: `${row.name} <${row.email}>` } };
}

/**
 * The callback in the popup: with a binding for this very state, complete the authorization as the
 * admin who started it and answer where the framed page goes next; otherwise refused, nothing done.
 */
export async function completeSageAuthorizationInPopup(
  db: Database,
  input: { binding: string; params: URLSearchParams },
): Promise<{ ok: true; next: string; outcome: CallbackOutcome; tenantId: string } | { ok: false; message: string }> {
  const bound = await resolveConsentBinding(db, { binding: input.binding, state: input.params.get("state") });
  if (!bound.ok) return { ok: false, message: bound.message };
  const outcome = await completeSageAuthorization(db, { tenantId: bound.tenantId, actor: bound.actor, params: input.params });
  return { ok: true, next: await pathAfterAuthorization(db, bound.tenantId, outcome), outcome, tenantId: bound.tenantId };
}
