import { redirect } from "next/navigation";
import { plainPage } from "@/components/plain-page";
import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { completeSageAuthorization } from "@/lib/connections/authorize";
import { getSettings } from "@/lib/settings/settings";

/** Tenant side of the OAuth round trip: the central redirector forwards Sage's answer here. */
export async function GET(request: Request) {
  const params = new URL(request.url).searchParams;
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
      redirect(`/connect/problem?reason=denied`);
    case "state_error":
      redirect(`/connect/problem?reason=${outcome.reason}`);
    case "sage_error":
      redirect(`/connect/problem?reason=sage_error`);
  }
}
