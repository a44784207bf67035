import { describe, expect, it } from "vitest";
import { createFormatter, formatAgo, formatCalendarDate, formatDate, formatDateTime, formatDuration, formatMoney, formatNumber, formatTime } from "@/lib/locale/format";
import { DEFAULT_LOCALE, negotiateLocale, supportedLocale, supportedTimeZone } from "@/lib/locale/negotiate";
import { describeItem } from "@/lib/tasks/order-to-task";

const NBSP = "\u00a0";
const NNBSP = "\u202f";

describe("negotiateLocale (Accept-Language → the request's locale)", () => {
  it("is en-GB when the header is missing, empty or unusable", () => {
    expect(DEFAULT_LOCALE).toBe("en-GB");
    for (const header of [null, undefined, "", "   ", "*", "garbage;;;,,q=x", "x-foo", "zz-ZZ", "i-klingon", ";q=1", "en-GB;q=0", "a".repeat(5000)]) {
      expect(negotiateLocale(header), JSON.stringify(header?.slice(0, 20))).toBe("en-GB");
    }
  });

  it("takes the browser's first language that Intl can format", () => {
    expect(negotiateLocale("en-GB,en;q=0.9")).toBe("en-GB");
    expect(negotiateLocale("en-US,en;q=0.9")).toBe("en-US");
    expect(negotiateLocale("de-DE,de;q=0.9,en;q=0.8")).toBe("de-DE");
    expect(negotiateLocale("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")).toBe("fr-CH");
    expect(negotiateLocale("zz-ZZ, de;q=0.5")).toBe("de");
    expect(negotiateLocale("x-foo, es-ES;q=0.4")).toBe("es-ES");
  });

  it("follows q-values, not the order in the header", () => {
    expect(negotiateLocale("en-US;q=0.5, de-DE;q=0.9")).toBe("de-DE");
    expect(negotiateLocale("fr;q=0.1, en-GB;q=0.2, nl-NL")).toBe("nl-NL");
  });

  it("answers the canonical tag Intl really uses", () => {
    expect(negotiateLocale("EN-gb")).toBe("en-GB");
    expect(negotiateLocale("en-XY")).toBe("en"); // a region Intl has no data for: the language
    expect(supportedLocale("de-AT")).toBe("de-AT");
    expect(supportedLocale("*")).toBeNull();
  });

  it("knows IANA time zones, and nothing else", () => {
    expect(supportedTimeZone("Europe/London")).toBe("Europe/London");
    expect(supportedTimeZone("America/Vancouver")).toBe("America/Vancouver");
    expect(supportedTimeZone("Mars/Olympus")).toBeNull();
    expect(supportedTimeZone("")).toBeNull();
    expect(supportedTimeZone(undefined)).toBeNull();
  });
});

describe("dates", () => {
  const at = "2026-12-03T14:05:09Z"; // 3 December 2026, 14:05:09 in London (GMT)
  const london = (locale: string) => ({ locale, timeZone: "Europe/London" });

  it("formatDate: day/month/year in en-GB, month/day/year in en-US, day.month.year in de-DE", () => {
    expect(formatDate(at, london("en-GB"))).toBe("03/12/2026");
    expect(formatDate(at, london("en-US"))).toBe("12/3/2026");
    expect(formatDate(at, london("de-DE"))).toBe("3.12.2026");
    expect(formatDate(new Date(at), london("fr-FR"))).toBe("03/12/2026");
    expect(formatDate(Date.parse(at), london("ja-JP"))).toBe("2026/12/3");
  });

  it("formatDateTime and formatTime: 24-hour clock in en-GB and de-DE, 12-hour in en-US", () => {
    expect(formatDateTime(at, london("en-GB"))).toBe("03/12/2026, 14:05");
    expect(formatDateTime(at, london("en-GB"), { seconds: true })).toBe("03/12/2026, 14:05:09");
    expect(formatDateTime(at, london("en-US"))).toBe("12/3/2026, 2:05 PM");
    expect(formatDateTime(at, london("en-US"), { seconds: true })).toBe("12/3/2026, 2:05:09 PM");
    expect(formatDateTime(at, london("de-DE"))).toBe("3.12.2026, 14:05");
    expect(formatTime(at, london("en-GB"))).toBe("14:05");
    expect(formatTime(at, london("en-GB"), { seconds: true })).toBe("14:05:09");
    expect(formatTime(at, london("en-US"))).toBe("2:05 PM");
  });

  it("shows the instant in the given time zone (the day can change)", () => {
    const summerMidnight = "2026-06-30T23:30:00Z"; // 00:30 on 1 July in London (BST)
    expect(formatDateTime(summerMidnight, { locale: "en-GB", timeZone: "Europe/London" })).toBe("01/07/2026, 00:30");
    expect(formatDateTime(summerMidnight, { locale: "en-GB", timeZone: "UTC" })).toBe("30/06/2026, 23:30");
    expect(formatDateTime(summerMidnight, { locale: "en-US", timeZone: "America/New_York" })).toBe("6/30/2026, 7:30 PM");
    expect(formatTime("2026-12-03T09:05:01Z", { locale: "en-GB", timeZone: "Europe/London" }, { seconds: true })).toBe("09:05:01");
    expect(formatTime("2026-12-03T00:30:00Z", { locale: "en-US", timeZone: "UTC" })).toBe("12:30 AM");
  });

  it("a missing or invalid date is a dash, never 'Invalid Date'", () => {
    for (const v of [null, undefined, "", "not a date", Number.NaN]) {
      expect(formatDate(v, london("en-GB"))).toBe("—");
      expect(formatDateTime(v, london("en-GB"))).toBe("—");
      expect(formatTime(v, london("en-GB"))).toBe("—");
    }
  });

  it("formatCalendarDate: a Sage calendar day is the same day in every zone", () => {
    expect(formatCalendarDate("2026-12-03", "en-GB")).toBe("03/12/2026");
    expect(formatCalendarDate("2026-12-03", "en-US")).toBe("12/3/2026");
    expect(formatCalendarDate("2026-12-03", "de-DE")).toBe("3.12.2026");
    expect(formatCalendarDate("2026-02-30", "en-GB")).toBe("—");
    expect(formatCalendarDate("03/12/2026", "en-GB")).toBe("—");
    expect(formatCalendarDate(null, "en-GB")).toBe("—");
  });
});

describe("numbers and money", () => {
  it("formatNumber groups and separates as the locale does", () => {
    expect(formatNumber(1234567.891, "en-GB")).toBe("1,234,567.891");
    expect(formatNumber(1234567.891, "de-DE")).toBe("1.234.567,891");
    expect(formatNumber(1234.5, "fr-FR")).toBe(`1${NNBSP}234,5`);
    expect(formatNumber("37.5", "de-DE")).toBe("37,5");
    expect(formatNumber(0, "en-GB")).toBe("0");
    expect(formatNumber(null, "en-GB")).toBe("—");
    expect(formatNumber("abc", "en-GB")).toBe("—");
  });

  it("formatMoney shows the currency, in the locale's order and separators", () => {
    expect(formatMoney(1234.5, "GBP", "en-GB")).toBe("£1,234.50");
    expect(formatMoney("1234.5000", "GBP", "en-GB")).toBe("£1,234.50");
    expect(formatMoney(1234.5, "EUR", "de-DE")).toBe(`1.234,50${NBSP}€`);
    expect(formatMoney(1234.5, "EUR", "en-GB")).toBe("€1,234.50");
    expect(formatMoney(1234.5, "USD", "en-US")).toBe("$1,234.50");
    expect(formatMoney(1234.5, "USD", "en-GB")).toBe("US$1,234.50");
    expect(formatMoney(1234.5, "GBP", "en-US")).toBe("£1,234.50");
    expect(formatMoney(25, "gbp", "en-GB")).toBe("£25.00");
    expect(formatMoney(-10.2, "GBP", "en-GB")).toBe("-£10.20");
    expect(formatMoney(1234.5, "JPY", "ja-JP")).toBe("￥1,235");
  });

  it("formatMoney without a usable currency shows two decimals and never invents a currency", () => {
    expect(formatMoney(1234.5, null, "en-GB")).toBe("1,234.50");
    expect(formatMoney(1234.5, "", "de-DE")).toBe("1.234,50");
    expect(formatMoney(1234.5, "pounds", "en-GB")).toBe("1,234.50 POUNDS");
    expect(formatMoney(undefined, "GBP", "en-GB")).toBe("—");
  });

  it("formatDuration and formatAgo: English words, the locale's numbers", () => {
    expect(formatDuration(45, "en-GB")).toBe("45 s");
    expect(formatDuration(600, "en-GB")).toBe("10 min");
    expect(formatDuration(3 * 3600, "en-GB")).toBe("3 h");
    expect(formatDuration(86400, "en-GB")).toBe("24 h");
    expect(formatDuration(2 * 86400, "en-GB")).toBe("2 days");
    expect(formatDuration(1200 * 86400, "en-GB")).toBe("1,200 days");
    expect(formatDuration(1200 * 86400, "de-DE")).toBe("1.200 days");
    expect(formatDuration(null, "en-GB")).toBe("—");
    const now = Date.parse("2026-12-03T14:05:09Z");
    expect(formatAgo(null, now, "en-GB")).toBe("never");
    expect(formatAgo("2026-12-03T14:05:00Z", now, "en-GB")).toBe("just now");
    expect(formatAgo("2026-12-03T14:02:09Z", now, "en-GB")).toBe("3 min ago");
    expect(formatAgo("2026-12-03T09:05:09Z", now, "en-GB")).toBe("5 h ago");
    expect(formatAgo("2023-08-21T14:05:09Z", now, "de-DE")).toBe("1.200 days ago");
  });
});

describe("createFormatter (what useFormat() hands out)", () => {
  it("binds the locale and the time zone", () => {
    const f = createFormatter({ locale: "de-DE", timeZone: "Europe/Berlin" });
    expect(f.locale).toBe("de-DE");
    expect(f.dateTime("2026-12-03T14:05:09Z")).toBe("3.12.2026, 15:05");
    expect(f.money(1234.5, "EUR")).toBe(`1.234,50${NBSP}€`);
    expect(f.number(1500)).toBe("1.500");
  });

  it("task items read in the locale on a page, plain in the stored Action Log text", () => {
    const usage = { mpn: "OVERAGE", quantity: 1500.5, oldQuantity: 0, change: "usage" as const, delta: 1500.5 };
    const f = createFormatter({ locale: "de-DE" });
    expect(describeItem(usage, f.number)).toBe("1.500,5 × OVERAGE usage");
    expect(describeItem(usage)).toBe("1500.5 × OVERAGE usage");
    expect(describeItem({ mpn: "M365", quantity: 1200, oldQuantity: 1000, change: "upgrade", delta: 200 }, createFormatter({ locale: "en-GB" }).number)).toBe("M365 1,000 → 1,200 (upgrade)");
  });
});
