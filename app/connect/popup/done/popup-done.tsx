"use client";

import { useEffect, useState } from "react";
import { CONSENT_FINISHED } from "@/lib/oauth/consent-messages";

/** Tells the framed Connect page (our opener, same origin) where to go, then closes this window. */
export function ConsentPopupDone({ next }: { next: string | null }) {
  const [stayed, setStayed] = useState(false);
  useEffect(() => {
    const opener = window.opener as Window | null;
    if (!next || !opener || opener.closed) {
      setStayed(true);
      return;
    }
    opener.postMessage({ type: CONSENT_FINISHED, v: 1, next }, window.location.origin);
    window.close();
    // a window the script may not close (a tab the user opened) stays: say what to do
    const timer = window.setTimeout(() => setStayed(true), 500);
    return () => window.clearTimeout(timer);
  }, [next]);
  return (
    <p role="status" className="text-sm text-slate-600">
      {stayed ? "Sage has answered. Close this window and return to Sage Connector in the marketplace; it shows the result." : "Returning to Sage Connector…"}
    </p>
  );
}
