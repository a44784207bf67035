"use client";

import { useEffect, useState } from "react";
import { Alert } from "@/components/ui/card";
import { CONSENT_READY, CONSENT_TICKET, readConsentMessage } from "@/lib/oauth/consent-messages";

/** How long the popup waits for its ticket from the Connect page before it gives up. */
const TICKET_WAIT_MS = 15_000;

type Phase = { kind: "waiting" } | { kind: "redirecting" } | { kind: "refused"; message: string };

export function ConsentPopupStart() {
  const [phase, setPhase] = useState<Phase>({ kind: "waiting" });
  useEffect(() => {
    const opener = window.opener as Window | null;
    if (!opener || opener === window) {
      setPhase({ kind: "refused", message: "This window continues a Sage sign-in started from Sage Connector's Connect page, and it was not opened from there. Close it and click Connect to Sage in Sage Connector." });
      return;
    }
    let done = false;
    const onMessage = async (event: MessageEvent) => {
      // only the page that opened us, on our own origin
      if (done || event.source !== opener) return;
      const message = readConsentMessage(event, window.location.origin);
      if (message?.type !== CONSENT_TICKET) return;
      done = true;
      setPhase({ kind: "redirecting" });
      const res = await fetch("/api/connect/consent-ticket", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ticket: message.ticket }) }).catch(() => null);
      const body = (await res?.json().catch(() => null)) as { url?: string; message?: string } | null;
      if (res?.ok && body?.url) window.location.replace(body.url);
      else setPhase({ kind: "refused", message: body?.message ?? "Sage Connector could not start the sign-in. Close this window and click Connect to Sage again." });
    };
    window.addEventListener("message", onMessage);
    // the exact origin: a page of any other origin that opened this window never hears from it
    opener.postMessage({ type: CONSENT_READY, v: 1 }, window.location.origin);
    const timer = window.setTimeout(() => {
      if (!done) setPhase({ kind: "refused", message: "No sign-in was handed to this window. Close it and click Connect to Sage in Sage Connector again." });
      done = true;
    }, TICKET_WAIT_MS);
    return () => {
      window.removeEventListener("message", onMessage);
      window.clearTimeout(timer);
    };
  }, []);
  if (phase.kind === "refused") return <Alert tone="error">{phase.message}</Alert>;
  return <p role="status" className="text-sm text-slate-600">Opening Sage&apos;s sign-in…</p>;
}
