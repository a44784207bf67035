import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import { businessTimeZone } from "./business-date";
import { getConfig } from "@/lib/config";
import { createSageAccountingClient, collectSagePages, sageSender, unwrap, type SageAccountingClient, type SageClientOptions } from "@/lib/sage/accounting/api";
import { connectionBudget } from "@/lib/sage/rate-budget";
import type { CurrencyForPlan, TaxRateForPlan } from "./plan";

/** Every attempt waits for the rate budget of the connection's Sage business (shared by every process). */
function syncClientOptions(db: Database, connectionId: string): SageClientOptions {
  return {
    db,
    connectionId,
    retryUnknownWrites: false,
    beforeAttempt: connectionBudget(db, connectionId),
    policy: {
      attemptTimeoutMs: Number(process.env.SAGE_ATTEMPT_TIMEOUT_MS ?? 30_000),
      baseDelayMs: Number(process.env.SAGE_RETRY_BASE_DELAY_MS ?? 500),
    },
  };
}

/** A Sage client for the sync engine: paced by the business's shared rate budget; writes looked up before retry. */
export function syncClient(db: Database, connectionId: string): SageAccountingClient {
  return createSageAccountingClient(syncClientOptions(db, connectionId));
}

/**
 * The same transport without the typed layer, for the write loop that already holds the JSON:
 * resolves with Sage's 2xx answer as soon as it arrives (its body unread), or throws a SageError.
 */
export function syncSender(db: Database, connectionId: string) {
  const send = sageSender(syncClientOptions(db, connectionId));
  const base = getConfig().sage.apiUrl;
  return (method: "POST" | "PUT", path: string, body: unknown): Promise<Response> => send(method, `${base}${path}`, JSON.stringify(body));
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
    const sage = syncClient(db, connectionId);
    const rates = await collectSagePages<{ id: string; percentage?: number | string; is_visible?: boolean }>(sage, "/tax_rates?usage=sales&attributes=percentage&items_per_page=200");
    const ledgers = await collectSagePages<{ id: string; nominal_code?: number; tax_rate?: { id: string } | null }>(
      sage,
      "/ledger_accounts?visible_in=sales&attributes=nominal_code,tax_rate&items_per_page=200",
    );
    const sales = ledgers.slice().sort((a, b) => (a.nominal_code ?? 99999) - (b.nominal_code ?? 99999))[0];
    if (!sales) throw new Error("The Sage business has no ledger account visible in sales");
    const taxRates = new Map(rates.map((r) => [r.id, { id: r.id, percentage: Number(r.percentage ?? 0) }]));
    const taxRateId = sales.tax_rate?.id ?? rates.find((r) => /STANDARD/.test(r.id))?.id ?? rates[0]?.id ?? "";
    const financial = unwrap(await sage.GET("/financial_settings", {})) as { base_currency?: { id?: string } | null; multi_currency_enabled?: boolean; country?: { id?: string } | null } | null;
    const baseCurrency = financial?.base_currency?.id;
    if (!baseCurrency) throw new Error("Sage's financial settings name no base currency");
    const multiCurrency = financial?.multi_currency_enabled === true;
    const exchangeRates = new Map<string, number>();
    if (multiCurrency) {
      const list = await collectSagePages<{ id: string; rate?: number | string | null; currency?: { id: string } | null }>(sage, "/exchange_rates?attributes=rate,currency&items_per_page=200");
      for (const r of list) {
        const rate = Number(r.rate);
        if (Number.isFinite(rate) && rate > 0) exchangeRates.set((r.currency?.id ?? r.id).toUpperCase(), rate);
      }
    }
    const [connection] = await db.select({ country: connections.country }).from(connections).where(eq(connections.id, connectionId));
    const businessCountry = (financial?.country?.id ?? connection?.country ?? "GB").toUpperCase();
    const timeZone = businessTimeZone(businessCountry);
    return { ledgerAccountId: sales.id, taxRateId, taxRates, baseCurrency: baseCurrency.toUpperCase(), multiCurrency, exchangeRates, timeZone, businessCountry };
  })();
  defaultsCache.set(connectionId, { at: Date.now(), value });
  value.catch(() => defaultsCache.delete(connectionId));
  return value;
}
