/**
 * Dates, numbers and money in the reseller's locale, through Intl only. Pure: the same input, locale
 * and time zone give the same text on the server and in the browser, which is what lets a server-
 * rendered page hydrate without a mismatch.
 *
 * The words around numbers ("3 min ago", "12 days") stay English like the rest of the UI; the numbers
 * in them follow the locale.
 */

export type DateInput = Date | string | number;
export type FormatContext = { locale: string; timeZone?: string };

const NONE = "—";

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined;
  if (!f) {
    f = make();
    if (cache.size > 500) cache.clear();
    cache.set(key, f);
  }
  return f;
}

function toDate(value: DateInput | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function dateTimeFormat(ctx: FormatContext, name: string, options: Intl.DateTimeFormatOptions) {
  return cached(`dt|${ctx.locale}|${ctx.timeZone ?? ""}|${name}`, () => new Intl.DateTimeFormat(ctx.locale, { ...options, ...(ctx.timeZone ? { timeZone: ctx.timeZone } : {}) }));
}

const DATE: Intl.DateTimeFormatOptions = { year: "numeric", month: "numeric", day: "numeric" };
// "numeric" throughout: each locale's own clock pattern (en-GB 00:30, en-US 12:30 AM); "2-digit" minutes would give en-GB "0:30"
const TIME: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "numeric" };
const TIME_S: Intl.DateTimeFormatOptions = { ...TIME, second: "numeric" };

/** 03/12/2026 (en-GB) · 12/3/2026 (en-US) · 3.12.2026 (de-DE); "—" for no or an invalid date. */
export function formatDate(value: DateInput | null | undefined, ctx: FormatContext): string {
  const d = toDate(value);
  return d ? dateTimeFormat(ctx, "date", DATE).format(d) : NONE;
}

/** 03/12/2026, 14:05 (en-GB) · 12/3/2026, 2:05 PM (en-US); with `seconds`, 03/12/2026, 14:05:09. */
export function formatDateTime(value: DateInput | null | undefined, ctx: FormatContext, opts: { seconds?: boolean } = {}): string {
  const d = toDate(value);
  return d ? dateTimeFormat(ctx, opts.seconds ? "datetime-s" : "datetime", { ...DATE, ...(opts.seconds ? TIME_S : TIME) }).format(d) : NONE;
}

/** 14:05 (en-GB) · 2:05 PM (en-US); with `seconds`, 14:05:09. */
export function formatTime(value: DateInput | null | undefined, ctx: FormatContext, opts: { seconds?: boolean } = {}): string {
  const d = toDate(value);
  return d ? dateTimeFormat(ctx, opts.seconds ? "time-s" : "time", opts.seconds ? TIME_S : TIME).format(d) : NONE;
}

/**
 * A calendar day as Sage stores it ("2026-12-03", no time, no zone): the same day everywhere, in the
 * locale's order — 03/12/2026 (en-GB), 12/3/2026 (en-US). "—" for anything else.
 */
export function formatCalendarDate(isoDay: string | null | undefined, locale: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDay ?? "");
  if (!m) return NONE;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) || d.getUTCDate() !== Number(m[3]) ? NONE : formatDate(d, { locale, timeZone: "UTC" });
}

function toNumber(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** 1,234.5 (en-GB) · 1.234,5 (de-DE) · 1 234,5 (fr-FR, narrow no-break space); "—" for no number. */
export function formatNumber(value: number | string | null | undefined, locale: string, options: Intl.NumberFormatOptions = {}): string {
  const n = toNumber(value);
  if (n === null) return NONE;
  return cached(`n|${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options)).format(n);
}

/**
 * An amount with its currency: £1,234.50 (en-GB, GBP) · 1.234,50 € (de-DE, EUR) · €1,234.50 (en-GB,
 * EUR). The currency's own decimals (JPY has none). Without a currency code (or with one Intl does
 * not know) the amount is shown with two decimals and the code as given, so it is never passed off
 * as the reseller's currency.
 */
export function formatMoney(amount: number | string | null | undefined, currency: string | null | undefined, locale: string): string {
  const n = toNumber(amount);
  if (n === null) return NONE;
  const code = (currency ?? "").trim().toUpperCase();
  if (/^[A-Z]{3}$/.test(code)) {
    try {
      return cached(`m|${locale}|${code}`, () => new Intl.NumberFormat(locale, { style: "currency", currency: code })).format(n);
    } catch {
      /* a code Intl refuses: fall through */
    }
  }
  const plain = formatNumber(n, locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return code ? `${plain} ${code}` : plain;
}

/** How long: "45 s", "3 min", "5 h", "12 days", "1,200 days"; "—" for no value. */
export function formatDuration(seconds: number | null | undefined, locale: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  const s = Math.max(0, Math.round(seconds));
  const n = (x: number) => formatNumber(x, locale, { maximumFractionDigits: 0 });
  if (s < 120) return `${n(s)} s`;
  if (s < 7200) return `${n(Math.round(s / 60))} min`;
  if (s < 172800) return `${n(Math.round(s / 3600))} h`;
  const days = Math.round(s / 86400);
  return `${n(days)} ${days === 1 ? "day" : "days"}`;
}

/** How long ago: "never", "just now", "3 min ago", "5 h ago", "12 days ago". */
export function formatAgo(value: DateInput | null | undefined, now: number, locale: string): string {
  const d = toDate(value);
  if (!d) return "never";
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return "just now";
  const n = (x: number) => formatNumber(x, locale, { maximumFractionDigits: 0 });
  if (s < 3600) return `${n(Math.round(s / 60))} min ago`;
  if (s < 172800) return `${n(Math.round(s / 3600))} h ago`;
  return `${n(Math.round(s / 86400))} days ago`;
}

/** Every formatter bound to one locale and time zone: what `useFormat()` hands to components. */
export function createFormatter(ctx: FormatContext) {
  return {
    locale: ctx.locale,
    timeZone: ctx.timeZone,
    date: (v: DateInput | null | undefined) => formatDate(v, ctx),
    dateTime: (v: DateInput | null | undefined, opts?: { seconds?: boolean }) => formatDateTime(v, ctx, opts),
    time: (v: DateInput | null | undefined, opts?: { seconds?: boolean }) => formatTime(v, ctx, opts),
    calendarDate: (isoDay: string | null | undefined) => formatCalendarDate(isoDay, ctx.locale),
    number: (v: number | string | null | undefined, options?: Intl.NumberFormatOptions) => formatNumber(v, ctx.locale, options),
    money: (amount: number | string | null | undefined, currency: string | null | undefined) => formatMoney(amount, currency, ctx.locale),
    duration: (seconds: number | null | undefined) => formatDuration(seconds, ctx.locale),
    ago: (v: DateInput | null | undefined, now: number) => formatAgo(v, now, ctx.locale),
  };
}
export type Formatter = ReturnType<typeof createFormatter>;
