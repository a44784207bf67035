import { redirect } from "next/navigation";
import { plainPage } from "@/components/plain-page";
import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { completeSageAuthorization } from "@/lib/connections/authorize";
import { isStorableText } from "@/lib/http/storable-json";
import { getSettings } from "@/lib/settings/settings";

const MAX_PARAM_LENGTH = 8192;

/**
 * Tenant side of the OAuth round trip: the central redirector forwards Sage's answer here.
 * Bad input is a 400 page or the "could not be trusted" page, never a 500: parameters holding text
 * PostgreSQL cannot store (U+0000) or absurdly long are refused before anything is looked up; a
 * signed state with such claims is "tampered" (lib/oauth/state.ts).
 */
export async function GET(request: Request) {
  const params = new URL(request.url).searchParams;
  for (const [name, value] of params) {
    if (!isStorableText(name) || !isStorableText(value) || value.length > MAX_PARAM_LENGTH) {
      return plainPage(400, "Sign-in could not continue", "The answer from Sage is not valid (a parameter holds characters that are not allowed, or is too long). Nothing was stored.", { href: "/connect", label: "Start the connection again" });
    }
  }
  const user = await getSessionUser();
  if (!user || user.role !== "reseller_admin" || !user.tenantId) {
    return plainPage(401, "Sign in to finish connecting Sage", "Your session ended while you were on Sage's page. Sign in and start the connection again.", { href: "/login?callbackUrl=/connect", label: "Sign in" });
  }
  const db = await getDb();
  const outcome = await completeSageAuthorization(db, { tenantId: user.tenantId, actor: actorFor(user), params });
  switch (outcome.kind) {
    case "connected": {
      if (outcome.needsBusiness) redirect("/connect/business");
      const settings = await getSettings(db, user.tenantId);
      redirect(settings.confirmed ? "/dashboard" : "/settings?setup=1");
    }
    case "validated":
      redirect("/settings?validated=1");
    case "denied":
      redirect(`/connect/problem?reason=${outcome.existingConnectionKept ? "denied_kept" : "denied"}`);
    case "business_mismatch":
      redirect(`/connect/problem?reason=business_mismatch`);
    case "state_error":
      redirect(`/connect/problem?reason=${outcome.reason}`);
    case "sage_error":
      redirect(`/connect/problem?reason=sage_error`);
  }
}
