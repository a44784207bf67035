import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import { sageConnection } from "@/lib/connections/sage-session";
import type { SageConnectionApi } from "@/lib/sage/target";
import { businessTimeZone } from "./business-date";
import type { CurrencyForPlan, TaxRateForPlan } from "./plan";

/**
 * The connection's Sage business for the sync engine, whichever target it is: every attempt waits
 * for the business's shared rate budget (every process draws from it); a write whose outcome is
 * unknown is never repeated blindly — the exactly-once protocol (./documents.ts) looks it up first.
 */
export function syncConnection(db: Database, connectionId: string): SageConnectionApi {
  return sageConnection(db, connectionId, {
    retryUnknownWrites: false,
    policy: {
      attemptTimeoutMs: Number(process.env.SAGE_ATTEMPT_TIMEOUT_MS ?? 30_000),
      baseDelayMs: Number(process.env.SAGE_RETRY_BASE_DELAY_MS ?? 500),
    },
  });
}

export type BusinessDefaults = {
  ledgerAccountId: string;
  taxRateId: string;
  taxRates: Map<string, TaxRateForPlan>;
  /** the business's base currency and whether it takes others (financial_settings) */
  baseCurrency: string;
  multiCurrency: boolean;
  /** Sage's stored rates: units of the currency per 1 unit of the base currency */
  exchangeRates: Map<string, number>;
  /** the business's time zone: documents are dated on its calendar day */
  timeZone: string;
  /** the business's country (ISO alpha-2, upper case): the tax rules follow it */
  businessCountry: string;
};

/** The planner's currency input for an order in `orderCurrency`. */
export function currencyForPlan(defaults: BusinessDefaults, orderCurrency: string | null): CurrencyForPlan {
  return { order: orderCurrency, base: defaults.baseCurrency, multiCurrency: defaults.multiCurrency, exchangeRates: defaults.exchangeRates };
}

const defaultsCache = new Map<string, { at: number; value: Promise<BusinessDefaults> }>();
const DEFAULTS_TTL_MS = 10 * 60_000;

/**
 * Reference data the planner needs, read once per connection and cached in-process for 10 minutes:
 * sales tax rates with their percentage, the default sales ledger account (and its tax rate), the
 * base currency, multi-currency and the stored exchange rates. `fresh` reads them again (a task held
 * back by its currency is re-planned on fresh figures, so a reseller who has just turned
 * multi-currency on in Sage is not told "off" for ten minutes); `freshSince` (epoch ms) reads them
 * again unless the cached copy was read at or after that moment (a batch with foreign-currency
 * orders wants figures read since it started — not a second read of what it has just read).
 */
export function businessDefaults(db: Database, connectionId: string, opts: { fresh?: boolean; freshSince?: number } = {}): Promise<BusinessDefaults> {
  const hit = defaultsCache.get(connectionId);
  const recentEnough = hit && Date.now() - hit.at < DEFAULTS_TTL_MS && (opts.freshSince === undefined || hit.at >= opts.freshSince);
  if (!opts.fresh && recentEnough) return hit.value;
  const value = (async () => {
    const data = await syncConnection(db, connectionId).salesReferenceData();
    const sales = data.salesLedgers.slice().sort((a, b) => (a.nominalCode ?? 99999) - (b.nominalCode ?? 99999))[0];
    if (!sales) throw new Error("The Sage business has no ledger account visible in sales");
    const taxRates = new Map(data.taxRates.map((r) => [r.id, { id: r.id, percentage: r.percentage }]));
    const taxRateId = sales.taxRateId ?? data.taxRates.find((r) => /STANDARD/.test(r.id))?.id ?? data.taxRates[0]?.id ?? "";
    if (!data.baseCurrency) throw new Error("Sage's financial settings name no base currency");
    const exchangeRates = new Map(data.multiCurrency ? data.exchangeRates.map((r) => [r.currency, r.rate] as const) : []);
    const [connection] = await db.select({ country: connections.country }).from(connections).where(eq(connections.id, connectionId));
    const businessCountry = (data.country ?? connection?.country ?? "GB").toUpperCase();
    const timeZone = businessTimeZone(businessCountry);
    return { ledgerAccountId: sales.id, taxRateId, taxRates, baseCurrency: data.baseCurrency.toUpperCase(), multiCurrency: data.multiCurrency, exchangeRates, timeZone, businessCountry };
  })();
  defaultsCache.set(connectionId, { at: Date.now(), value });
  value.catch(() => defaultsCache.delete(connectionId));
  return value;
}
