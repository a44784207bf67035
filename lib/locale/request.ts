import { cookies, headers } from "next/headers";
import { businessTimeZone } from "@/lib/sync/business-date";
import { negotiateLocale, supportedTimeZone } from "./negotiate";
import { TIME_ZONE_COOKIE } from "./time-zone-cookie";

/**
 * This request's locale (Accept-Language, else en-GB) and the time zone the server renders times in:
 * the browser's (from the cookie components/format.tsx sets), else the business's default zone
 * (SAGE_BUSINESS_TIME_ZONE, else Europe/London) until the browser has told us.
 */
export async function requestFormatContext(): Promise<{ locale: string; timeZone: string }> {
  const [h, c] = await Promise.all([headers(), cookies()]);
  const locale = negotiateLocale(h.get("accept-language"));
  const timeZone = supportedTimeZone(c.get(TIME_ZONE_COOKIE)?.value) ?? businessTimeZone(null);
  return { locale, timeZone };
}
