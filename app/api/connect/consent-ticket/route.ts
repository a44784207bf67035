import { NextResponse } from "next/server";
import { z } from "zod";
import { getDb } from "@/db/client";
import { getSessionUser, supportWriteRefusal } from "@/lib/auth/session";
import { CONSENT_BINDING_COOKIE, CONSENT_BINDING_COOKIE_PATH, ConsentTicketError, redeemConsentTicket } from "@/lib/connections/consent-popup";
import { getConfig } from "@/lib/config";
import { parseJsonBody } from "@/lib/http/json-body";

const ticketSchema = z.object({ ticket: z.string({ message: "Send { \"ticket\": \"…\" }." }).min(1).max(4000) }).strict();

/**
 * The consent popup redeems the single-use ticket the framed Connect page handed it (postMessage):
 * authenticated by the ticket, not a session — the popup is top level and the framed session cookie
 * is partitioned to the portal's site. Sets the first-party binding cookie the OAuth callback checks
 * and answers Sage's consent URL. A write: same-origin JSON only (proxy.ts, write-guard).
 */
export async function POST(request: Request) {
  const parsed = await parseJsonBody(request, ticketSchema);
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]?.message ?? "Invalid request. Nothing was changed." }, { status: 400 });
  // support staff never authorize Sage for a reseller, whatever they hold
  const session = await getSessionUser();
  if (session?.role === "support") {
    const message = await supportWriteRefusal(session, new ConsentTicketError("support").message);
    return Response.json({ error: message, reason: "support", message }, { status: 403 });
  }
  try {
    const { consentUrl, binding } = await redeemConsentTicket(await getDb(), { ticket: parsed.data.ticket });
    const response = NextResponse.json({ url: consentUrl });
    response.cookies.set(CONSENT_BINDING_COOKIE, binding.value, {
      httpOnly: true,
      sameSite: "lax",
      secure: new URL(getConfig().appUrl).protocol === "https:",
      path: CONSENT_BINDING_COOKIE_PATH,
      expires: binding.expiresAt,
    });
    return response;
  } catch (e) {
    if (e instanceof ConsentTicketError) return Response.json({ error: e.reason, message: e.message }, { status: e.reason === "support" ? 403 : 401 });
    throw e;
  }
}
