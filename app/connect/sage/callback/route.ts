import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { plainPage } from "@/components/plain-page";
import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { completeSageAuthorization, pathAfterAuthorization, type CallbackOutcome } from "@/lib/connections/authorize";
import { resyncReviewRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { CONSENT_BINDING_COOKIE, CONSENT_BINDING_COOKIE_PATH, completeSageAuthorizationInPopup } from "@/lib/connections/consent-popup";
import { getConfig } from "@/lib/config";
import { isStorableText } from "@/lib/http/storable-json";
import { CONSENT_POPUP_DONE_PATH } from "@/lib/oauth/consent-messages";

const MAX_PARAM_LENGTH = 8192;

/**
 * Tenant side of the OAuth round trip: the central redirector forwards Sage's answer here.
 * Bad input is a 400 page or the "could not be trusted" page, never a 500: parameters holding text
 * PostgreSQL cannot store (U+0000) or absurdly long are refused before anything is looked up; a
 * signed state with such claims is "tampered" (lib/oauth/state.ts).
 *
 * Two ways in: top level with the reseller's session (as always), or in the consent popup opened from
 * the marketplace iframe, which has no session (it is partitioned to the portal's site) but the
 * binding cookie its ticket set (lib/connections/consent-popup.ts) — accepted only for the very state
 * it was set for. The popup then hands the framed page where to go, and closes.
 */
export async function GET(request: Request) {
  const params = new URL(request.url).searchParams;
  for (const [name, value] of params) {
    if (!isStorableText(name) || !isStorableText(value) || value.length > MAX_PARAM_LENGTH) {
      return plainPage(400, "Sign-in could not continue", "The answer from Sage is not valid (a parameter holds characters that are not allowed, or is too long). Nothing was stored.", { href: "/connect", label: "Start the connection again" });
    }
  }
  const db = await getDb();
  const binding = (await cookies()).get(CONSENT_BINDING_COOKIE)?.value;
  if (binding) {
    const popup = await completeSageAuthorizationInPopup(db, { binding, params });
    if (popup.ok) {
      await startResyncReview(popup.tenantId, popup.outcome);
      const done = new URL(CONSENT_POPUP_DONE_PATH, getConfig().appUrl);
      done.searchParams.set("next", popup.next);
      const response = NextResponse.redirect(done, 303);
      // single use: the binding goes with the state it bound
      response.cookies.set(CONSENT_BINDING_COOKIE, "", { path: CONSENT_BINDING_COOKIE_PATH, maxAge: 0, httpOnly: true, sameSite: "lax", secure: done.protocol === "https:" });
      return response;
    }
    // a binding for another sign-in: only the reseller's own session (top level) may still finish this one
    if (!(await getSessionUser())) return plainPage(403, "Sign-in could not be finished here", popup.message, { href: "/connect", label: "Start the connection again" });
  }
  const user = await getSessionUser();
  if (!user || user.role !== "reseller_admin" || !user.tenantId) {
    return plainPage(401, "Sign in to finish connecting Sage", "Your session ended while you were on Sage's page. Sign in and start the connection again.", { href: "/login?callbackUrl=/connect", label: "Sign in" });
  }
  const outcome = await completeSageAuthorization(db, { tenantId: user.tenantId, actor: actorFor(user), params });
  await startResyncReview(user.tenantId, outcome);
  redirect(await pathAfterAuthorization(db, user.tenantId, outcome));
}

/** The connect opened a re-sync review (no Sage contact id on any customer): its flow checks the existing Sage contacts. */
async function startResyncReview(tenantId: string, outcome: CallbackOutcome) {
  if (outcome.kind !== "connected" || !outcome.resyncReviewId) return;
  await sendEvent(resyncReviewRequested.create({ tenantId, connectionId: outcome.connectionId, reviewId: outcome.resyncReviewId }, { id: `resync-review-${outcome.resyncReviewId}` }));
}
