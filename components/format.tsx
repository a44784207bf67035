"use client";

import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from "react";
import { createFormatter, type Formatter } from "@/lib/locale/format";
import { DEFAULT_LOCALE } from "@/lib/locale/negotiate";
import { TIME_ZONE_COOKIE } from "@/lib/locale/time-zone-cookie";

/**
 * The reseller's locale (negotiated on the server from Accept-Language, see app/layout.tsx) and the
 * time zone dates are shown in, for every client component: `const f = useFormat(); f.dateTime(at)`.
 *
 * Time zone: the browser's own. The server cannot know it on a first visit, so it renders in the
 * zone the browser told it last time (a cookie) or else in `serverTimeZone`; hydration uses that same
 * zone (useSyncExternalStore's server snapshot), so the text matches, and React then re-renders in
 * the browser's zone if it differs. The cookie makes the next server render right from the start.
 */

const FormatContext = createContext<{ locale: string; serverTimeZone: string } | null>(null);

let zone: string | undefined;
/** read once per tab: every formatted date asks for it on every render */
function browserTimeZone(): string {
  return (zone ??= Intl.DateTimeFormat().resolvedOptions().timeZone);
}
const noSubscription = () => () => {};

export function FormatProvider({ locale, serverTimeZone, children }: { locale: string; serverTimeZone: string; children: ReactNode }) {
  const value = useMemo(() => ({ locale, serverTimeZone }), [locale, serverTimeZone]);
  useEffect(() => {
    const zone = browserTimeZone();
    if (!zone || zone === serverTimeZone) return;
    // the session cookie's attributes (the app runs in the marketplace's cross-site iframe); plain Lax where that cannot be set
    const attributes = window.isSecureContext ? "SameSite=None; Secure; Partitioned" : "SameSite=Lax";
    document.cookie = `${TIME_ZONE_COOKIE}=${zone}; Path=/; Max-Age=31536000; ${attributes}`;
  }, [serverTimeZone]);
  return <FormatContext.Provider value={value}>{children}</FormatContext.Provider>;
}

/** Formatters in the reseller's locale and the browser's time zone (the server's guess until hydrated). */
export function useFormat(): Formatter {
  const ctx = useContext(FormatContext);
  const serverTimeZone = ctx?.serverTimeZone ?? "UTC";
  const timeZone = useSyncExternalStore(noSubscription, browserTimeZone, () => serverTimeZone);
  const locale = ctx?.locale ?? DEFAULT_LOCALE;
  return useMemo(() => createFormatter({ locale, timeZone }), [locale, timeZone]);
}
