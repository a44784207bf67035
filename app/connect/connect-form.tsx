"use client";

import { startTransition, useActionState, useEffect, useRef, useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { CONSENT_FINISHED, CONSENT_POPUP_NAME, CONSENT_POPUP_PATH, CONSENT_READY, CONSENT_TICKET, consentPopupFeatures, readConsentMessage } from "@/lib/oauth/consent-messages";
import { CapabilityTable } from "@/components/connections/capability-table";
import type { SageCapabilityTable } from "@/lib/sage/target";
import { startAuthorizationAction, type ConnectState } from "./actions";

type Product = { id: string; label: string; available: boolean; note?: string; countries: { code: string; label: string }[]; capabilities?: SageCapabilityTable; exchange?: "api" | "file_exchange" };

/** The consent popup's progress, as the framed page sees it. */
type PopupPhase = "idle" | "waiting" | "blocked" | "closed" | "finishing";

/**
 * Top level, "Connect to Sage" sends the browser to Sage's consent page (a server-action redirect).
 * Inside the marketplace's iframe Sage's sign-in would refuse to render, so the same click opens it in
 * a popup and this page waits: it hands the popup its single-use ticket, and when the popup reports
 * that Sage answered, this frame goes where the top-level flow would have gone
 * (lib/oauth/consent-messages.ts, lib/connections/consent-popup.ts).
 */
export function ConnectForm({ products }: { products: Product[] }) {
  const [state, action, pending] = useActionState<ConnectState, FormData>(startAuthorizationAction, {});
  const [productId, setProductId] = useState(products.find((p) => p.available)?.id ?? "");
  const chosen = products.find((p) => p.id === productId);
  const countries = chosen?.countries ?? [];
  const popup = useConsentPopup(state, action);
  return (
    <form action={action} onSubmit={chosen?.exchange === "file_exchange" ? undefined : popup.onSubmit} className="space-y-6" noValidate>
      {state.error && <Alert tone="error">{state.error}</Alert>}
      <fieldset>
        <legend className="text-sm font-medium">Sage product</legend>
        <div className="mt-2 space-y-2">
          {products.map((p) => (
            <label key={p.id} className={`flex items-center gap-3 rounded-md border px-4 py-3 ${p.available ? "border-slate-300" : "border-dashed border-slate-200 text-slate-400"}`}>
              <input type="radio" name="product" value={p.id} disabled={!p.available} checked={productId === p.id} onChange={() => setProductId(p.id)} />
              <span>{p.label}</span>
              {p.note && <span className="ml-auto text-xs">{p.note}</span>}
            </label>
          ))}
        </div>
        {state.fieldErrors?.product && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.product}</p>}
        {chosen?.capabilities && (
          <div className="mt-4">
            <CapabilityTable label={chosen.label} capabilities={chosen.capabilities} exchange={chosen.exchange ?? "api"} />
          </div>
        )}
      </fieldset>
      <div>
        <label htmlFor="country" className="block text-sm font-medium">Country of your Sage business</label>
        <select id="country" name="country" defaultValue="" className="mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2">
          <option value="" disabled>Choose a country…</option>
          {countries.map((c) => (
            <option key={c.code} value={c.code}>{c.label}</option>
          ))}
        </select>
        {state.fieldErrors?.country && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.country}</p>}
      </div>
      {popup.phase === "waiting" && (
        <Alert tone="info">
          <span data-testid="consent-popup-status">Sage&apos;s sign-in opened in a new window. Allow access there; this page continues by itself.</span>{" "}
          <button type="button" className="underline" onClick={popup.focus}>Show the Sage window</button>
        </Alert>
      )}
      {popup.phase === "blocked" && (
        <Alert tone="warning" role="alert">
          Your browser blocked the Sage sign-in window.{" "}
          {/* rel="opener": the new tab must be able to reach this page for its ticket (a _blank link is noopener by default) */}
          <a href={CONSENT_POPUP_PATH} target="_blank" rel="opener" className="font-medium underline">Open Sage sign-in in a new tab</a>
        </Alert>
      )}
      {popup.phase === "closed" && (
        <Alert tone="warning" role="alert">
          <span data-testid="consent-popup-status">The Sage window was closed before the connection was finished. Nothing was changed.</span>{" "}
          <button type="submit" className="font-medium underline">Try again</button>
        </Alert>
      )}
      <Button type="submit" disabled={pending || popup.phase === "finishing"}>
        {chosen?.exchange === "file_exchange" ? (pending ? "Asking Sage for a passcode…" : "Get a passcode") : pending ? "Opening Sage…" : popup.phase === "waiting" ? "Waiting for Sage…" : "Connect to Sage"}
      </Button>
    </form>
  );
}

function useConsentPopup(state: ConnectState, action: (form: FormData) => void) {
  const [phase, setPhase] = useState<PopupPhase>("idle");
  /** the window we opened (or, for the fallback tab, the one that said it is ours) */
  const popupRef = useRef<Window | null>(null);
  /** the window that asked for its ticket: the only one that gets it, and the only one we listen to */
  const readyRef = useRef<Window | null>(null);
  const ticketRef = useRef<{ ticket: string; sent: boolean } | null>(null);
  const finishedRef = useRef(false);

  const sendTicket = () => {
    const t = ticketRef.current;
    const to = readyRef.current;
    if (!t || t.sent || !to || to.closed) return;
    t.sent = true; // single use: handed over once
    to.postMessage({ type: CONSENT_TICKET, v: 1, ticket: t.ticket }, window.location.origin);
  };

  // a fresh ticket from the server action
  useEffect(() => {
    if (state.ticket) {
      ticketRef.current = { ticket: state.ticket, sent: false };
      sendTicket();
    } else if (state.error || state.fieldErrors) {
      // nothing to sign in to: the window we opened for it goes again
      popupRef.current?.close();
      popupRef.current = null;
      setPhase("idle");
    }
  }, [state]);

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const message = readConsentMessage(event, window.location.origin);
      if (!message || !event.source) return;
      const source = event.source as Window;
      if (message.type === CONSENT_READY) {
        // only a window this page opened: the popup, or the fallback tab (its opener is us)
        if (source !== popupRef.current && openerOf(source) !== window) return;
        popupRef.current = source;
        readyRef.current = source;
        setPhase("waiting");
        sendTicket();
      } else if (message.type === CONSENT_FINISHED) {
        if (source !== readyRef.current) return;
        finishedRef.current = true;
        setPhase("finishing");
        window.location.assign(message.next);
      }
    };
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, []);

  // the window closed without finishing: say so, and offer to try again
  useEffect(() => {
    if (phase !== "waiting") return;
    const timer = window.setInterval(() => {
      if (popupRef.current?.closed && !finishedRef.current) setPhase("closed");
    }, 500);
    return () => window.clearInterval(timer);
  }, [phase]);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    if (window.top === window.self) return; // top level: the form's server action redirects to Sage
    // in the frame the action is called by hand: a form action would reset the form (the country) after
    // answering, and "Try again" needs it still chosen
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    form.set("mode", "popup");
    // a country chosen: the window opens now, on the click (a popup opened after an await is blocked),
    // and asks for its ticket when loaded; without one, no window: the action answers the field error
    if (form.get("country")) {
      popupRef.current?.close();
      finishedRef.current = false;
      readyRef.current = null;
      ticketRef.current = null;
      popupRef.current = window.open(CONSENT_POPUP_PATH, CONSENT_POPUP_NAME, consentPopupFeatures(window));
      setPhase(popupRef.current ? "waiting" : "blocked");
    }
    startTransition(() => action(form));
  };

  return { phase, onSubmit, focus: () => popupRef.current?.focus() };
}

function openerOf(w: Window): Window | null {
  try {
    return w.opener as Window | null;
  } catch {
    return null;
  }
}
