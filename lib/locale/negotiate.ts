import Negotiator from "negotiator";

/**
 * The reseller's locale for a request, from the browser's Accept-Language header: the first of the
 * languages the browser asks for (in its q-value order, parsed by `negotiator`) that this runtime's
 * Intl can format dates and numbers in. A missing, empty or unusable header gives en-GB.
 *
 * The answer is the locale Intl really uses for it (`en-XY` → `en`), canonical (`EN-gb` → `en-GB`),
 * so `<html lang>`, the server's rendering and the browser's hydration all agree.
 */
export const DEFAULT_LOCALE = "en-GB";

export function negotiateLocale(acceptLanguage: string | null | undefined, fallback: string = DEFAULT_LOCALE): string {
  if (!acceptLanguage || acceptLanguage.length > 4096) return fallback;
  const requested = new Negotiator({ headers: { "accept-language": acceptLanguage } }).languages();
  for (const tag of requested) {
    const locale = supportedLocale(tag);
    if (locale) return locale;
  }
  return fallback;
}

/** `tag` as Intl formats it (canonical, resolved), or null when Intl has no locale data for it or it is no language tag. */
export function supportedLocale(tag: string): string | null {
  if (!tag || tag === "*") return null;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (!canonical) return null;
    if (Intl.DateTimeFormat.supportedLocalesOf([canonical], { localeMatcher: "lookup" }).length === 0) return null;
    if (Intl.NumberFormat.supportedLocalesOf([canonical], { localeMatcher: "lookup" }).length === 0) return null;
    return new Intl.DateTimeFormat(canonical).resolvedOptions().locale;
  } catch {
    return null; // RangeError: not a well-formed language tag
  }
}

/** An IANA time zone name this runtime knows ("Europe/London"), else null. */
export function supportedTimeZone(name: string | null | undefined): string | null {
  if (!name || name.length > 64) return null;
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
