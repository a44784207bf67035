/**
 * Invoice and credit-note dates are the business's calendar day, not the server's (UTC): an order
 * synced at 00:30 in London during summer time is dated that day, not the day before.
 *
 * Sage's published description gives a business no time zone; its country does (financial
 * settings, else the connection's region). SAGE_BUSINESS_TIME_ZONE overrides it for a business in
 * another zone (an IANA name such as "America/Vancouver").
 */
const TIME_ZONE_OF_COUNTRY: Record<string, string> = {
  GB: "Europe/London",
  IE: "Europe/Dublin",
  ES: "Europe/Madrid",
  FR: "Europe/Paris",
  DE: "Europe/Berlin",
  CA: "America/Toronto",
  US: "America/New_York",
  ZA: "Africa/Johannesburg",
  AU: "Australia/Sydney",
};

export function businessTimeZone(country: string | null | undefined, override = process.env.SAGE_BUSINESS_TIME_ZONE): string {
  if (override && isTimeZone(override)) return override;
  return TIME_ZONE_OF_COUNTRY[(country ?? "").toUpperCase()] ?? "Europe/London";
}

/** The calendar date (YYYY-MM-DD) at `at` in `timeZone`. */
export function businessDate(timeZone: string, at: Date = new Date()): string {
  const parts = dayFormat(timeZone).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

// one formatter per zone: building an Intl.DateTimeFormat costs ~0.2 ms, called once per document
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dayFormats.get(timeZone);
  if (!f) dayFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
