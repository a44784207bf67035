// Reference data: contact_types, currencies, artefact_statuses, ledger_accounts, tax_rates, financial_settings.
import { json } from "../../http";
import type { BusinessData, LedgerAccountRec, TaxRateRec } from "../data";
import {
  ARTEFACT_STATUSES,
  CONTACT_TYPES,
  CURRENCIES,
  LEDGER_ACCOUNT_TYPES,
  VISIBLE_IN,
  type VisibleIn,
} from "../reference-data";
import { invalidParam, listReply, notFound, ref, ts, type Ref } from "./common";
import type { RequestContext } from "../../router";
import type { Operation } from "./types";
import { paginate, selectAttributes } from "./paging";

const SEED_TS = "2024-04-01T09:00:00Z";

// ---- static lists ---------------------------------------------------------------------------

function staticResource(id: string, name: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, displayed_as: name, $path: `${path}/${id}`, created_at: SEED_TS, updated_at: SEED_TS, ...extra };
}

export function contactTypeRef(id: string): Ref {
  const t = CONTACT_TYPES.find((c) => c.id === id);
  return ref(id, t?.name ?? id, `/contact_types/${id}`);
}

export function currencyRef(id: string): Ref {
  const c = CURRENCIES.find((x) => x.id === id);
  return ref(id, c ? `${c.name} (${c.id})` : id, `/currencies/${id}`);
}

export function statusRef(id: string): Ref {
  const s = ARTEFACT_STATUSES.find((x) => x.id === id);
  return ref(id, s?.name ?? id, `/artefact_statuses/${id}`);
}

function currencyResource(id: string): Record<string, unknown> | null {
  const c = CURRENCIES.find((x) => x.id === id);
  if (!c) return null;
  return staticResource(c.id, `${c.name} (${c.id})`, "/currencies", { name: c.name, symbol: c.symbol });
}

function staticList(all: Array<Record<string, unknown>>, path: string) {
  return (ctx: RequestContext) =>
    json(200, paginate(all.map((r) => selectAttributes(r, ctx.query.attributes)), path, ctx.query));
}

function staticGet(find: (id: string) => Record<string, unknown> | null) {
  return (ctx: RequestContext) => {
    const r = find(ctx.params.key ?? "");
    return r ? json(200, r) : notFound();
  };
}

const contactTypes = () => CONTACT_TYPES.map((t) => staticResource(t.id, t.name, "/contact_types", { name: t.name }));
const currencies = () => CURRENCIES.map((c) => currencyResource(c.id)).filter((c): c is Record<string, unknown> => c !== null);
const statuses = () => ARTEFACT_STATUSES.map((s) => staticResource(s.id, s.name, "/artefact_statuses", { name: s.name }));

// ---- ledger accounts ------------------------------------------------------------------------

export function ledgerRef(l: LedgerAccountRec): Ref {
  return ref(l.id, `${l.name} (${l.nominal_code})`, `/ledger_accounts/${l.id}`);
}

export function taxRateRef(t: TaxRateRec): Ref {
  return ref(t.id, `${t.name} ${t.percentage.toFixed(2)}%`, `/tax_rates/${t.id}`);
}

export function renderLedgerAccount(data: BusinessData, l: LedgerAccountRec): Record<string, unknown> {
  const tax = l.tax_rate_id ? data.taxRates.get(l.tax_rate_id) : undefined;
  const vis = (v: VisibleIn) => l.visible_in.includes(v);
  return {
    ...ledgerRef(l),
    created_at: ts(l.createdMs),
    updated_at: ts(l.updatedMs),
    name: l.name,
    display_name: l.display_name,
    visible_scopes: l.visible_in,
    included_in_chart: l.included_in_chart,
    nominal_code: l.nominal_code,
    ledger_account_type: ref(l.type, LEDGER_ACCOUNT_TYPES[l.type] ?? l.type, `/ledger_account_types/${l.type}`),
    ledger_account_classification: null,
    tax_rate: tax ? taxRateRef(tax) : null,
    fixed_tax_rate: false,
    visible_in_banking: vis("banking"),
    visible_in_expenses: vis("expenses"),
    visible_in_journals: vis("journals"),
    visible_in_other_payments: vis("other_payments"),
    visible_in_other_receipts: vis("other_receipts"),
    visible_in_reporting: vis("reporting"),
    visible_in_sales: vis("sales"),
    is_control_account: l.control_name !== null,
    control_name: l.control_name,
    display_formatted: `${l.nominal_code} - ${l.name}`,
  };
}

export function renderTaxRate(t: TaxRateRec): Record<string, unknown> {
  return {
    ...taxRateRef(t),
    created_at: ts(t.createdMs),
    updated_at: ts(t.updatedMs),
    name: t.name,
    agency: null,
    percentage: t.percentage,
    percentages: [{ percentage: t.percentage, from_date: "2011-01-04", to_date: null }],
    is_visible: true,
    retailer: false,
    editable: false,
    deletable: false,
    is_combined_rate: false,
    component_tax_rates: [],
  };
}

// ---- operations -----------------------------------------------------------------------------

// ---- exchange rates (the business's stored rates, keyed by currency) -------------------------

function renderExchangeRate(data: BusinessData, code: string): Record<string, unknown> | null {
  const r = data.exchangeRates[code];
  if (!r || code === data.currency) return null;
  return {
    id: code,
    displayed_as: `${code} ${r.rate}`,
    $path: `/exchange_rates/${code}`,
    created_at: ts(r.updatedMs),
    updated_at: ts(r.updatedMs),
    rate: r.rate,
    inverse_rate: Math.round((1 / r.rate) * 1e6) / 1e6,
    base_currency: currencyRef(data.currency),
    currency: currencyRef(code),
  };
}

export const referenceOperations: Operation[] = [
  {
    method: "GET",
    path: "/exchange_rates",
    name: "sage.exchange_rates.list",
    handler: (ctx, { data }) => {
      const all = Object.keys(data.exchangeRates).sort().map((c) => renderExchangeRate(data, c)).filter((r): r is Record<string, unknown> => r !== null);
      return json(200, paginate(all.map((r) => selectAttributes(r, ctx.query.attributes)), "/exchange_rates", ctx.query));
    },
  },
  {
    method: "GET",
    path: "/exchange_rates/:key",
    name: "sage.exchange_rates.get",
    handler: (ctx, { data }) => {
      const r = renderExchangeRate(data, (ctx.params.key ?? "").toUpperCase());
      return r ? json(200, r) : notFound();
    },
  },
  { method: "GET", path: "/contact_types", name: "sage.contact_types.list", handler: staticList(contactTypes(), "/contact_types") },
  {
    method: "GET",
    path: "/contact_types/:key",
    name: "sage.contact_types.get",
    handler: staticGet((id) => contactTypes().find((t) => t.id === id) ?? null),
  },
  { method: "GET", path: "/currencies", name: "sage.currencies.list", handler: staticList(currencies(), "/currencies") },
  { method: "GET", path: "/currencies/:key", name: "sage.currencies.get", handler: staticGet(currencyResource) },
  {
    method: "GET",
    path: "/artefact_statuses",
    name: "sage.artefact_statuses.list",
    handler: staticList(statuses(), "/artefact_statuses"),
  },
  {
    method: "GET",
    path: "/artefact_statuses/:key",
    name: "sage.artefact_statuses.get",
    handler: staticGet((id) => statuses().find((s) => s.id === id) ?? null),
  },
  {
    method: "GET",
    path: "/ledger_accounts",
    name: "sage.ledger_accounts.list",
    handler: (ctx, { data }) => {
      const q = ctx.query;
      for (const p of ["visible_in", "not_visible_in"] as const) {
        const v = q[p];
        if (v !== undefined && !VISIBLE_IN.includes(v as VisibleIn)) {
          return invalidParam(p, `must be one of ${VISIBLE_IN.join(", ")}`);
        }
      }
      const search = q.search?.toLowerCase();
      return listReply({
        ctx,
        data,
        live: data.ledgerAccounts.live(),
        resourcePath: "/ledger_accounts",
        supportsDeletedSince: false,
        render: (l) => renderLedgerAccount(data, l),
        filter: (l) =>
          (!q.visible_in || l.visible_in.includes(q.visible_in as VisibleIn)) &&
          (!q.not_visible_in || !l.visible_in.includes(q.not_visible_in as VisibleIn)) &&
          (!q.ledger_account_type_id || l.type === q.ledger_account_type_id) &&
          (!search ||
            l.name.toLowerCase().includes(search) ||
            l.display_name.toLowerCase().includes(search) ||
            String(l.nominal_code).includes(search)),
      });
    },
  },
  {
    method: "GET",
    path: "/ledger_accounts/:key",
    name: "sage.ledger_accounts.get",
    handler: (ctx, { data }) => {
      const l = data.ledgerAccounts.get(ctx.params.key ?? "");
      return l ? json(200, renderLedgerAccount(data, l)) : notFound();
    },
  },
  {
    method: "GET",
    path: "/tax_rates",
    name: "sage.tax_rates.list",
    handler: (ctx, { data }) => {
      const usage = ctx.query.usage;
      if (usage !== undefined && usage !== "sales" && usage !== "purchase") {
        return invalidParam("usage", "must be sales or purchase");
      }
      return listReply({
        ctx,
        data,
        live: data.taxRates.live(),
        resourcePath: "/tax_rates",
        supportsDeletedSince: false,
        render: renderTaxRate,
        filter: (t) => !usage || t.usage.includes(usage),
      });
    },
  },
  {
    method: "GET",
    path: "/tax_rates/:key",
    name: "sage.tax_rates.get",
    handler: (ctx, { data }) => {
      const t = data.taxRates.get(ctx.params.key ?? "");
      return t ? json(200, renderTaxRate(t)) : notFound();
    },
  },
  {
    method: "GET",
    path: "/financial_settings",
    name: "sage.financial_settings.get",
    handler: (_ctx, { data, business }) =>
      json(200, {
        $path: "/financial_settings",
        year_end_date: "2025-03-31",
        accounts_start_date: "2024-04-01",
        base_currency: currencyRef(data.currency),
        multi_currency_enabled: data.multiCurrencyEnabled,
        use_live_exchange_rates: false,
        tax_number: business.country === "GB" ? "GB123456789" : "IE1234567T",
        tax_return_frequency: { id: "QUARTERLY", displayed_as: "Quarterly", $path: "/tax_return_frequencies/QUARTERLY" },
        country: { id: business.country, displayed_as: business.country, $path: `/countries/${business.country}` },
      }),
  },
];
