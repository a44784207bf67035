// Per-business accounting data of the simulated Sage: records, stores, idempotency and rate windows.
import { seededId } from "./ids";
import {
  CHART_OF_ACCOUNTS,
  CONTACT_SEEDS,
  ITEM_SEEDS,
  TAX_RATES,
  type ArtefactStatusId,
  type TaxKind,
  type TaxUsage,
  type VisibleIn,
} from "./reference-data";
import { COUNTRY_CURRENCY, type CountryCode } from "./seed-users";

export interface Rec {
  id: string;
  createdMs: number;
  updatedMs: number;
  deletedMs: number | null;
}

export interface LedgerAccountRec extends Rec {
  nominal_code: number;
  name: string;
  display_name: string;
  type: string;
  visible_in: VisibleIn[];
  tax_rate_id: string | null;
  control_name: string | null;
  included_in_chart: boolean;
}

export interface TaxRateRec extends Rec {
  name: string;
  percentage: number;
  kind: TaxKind;
  usage: TaxUsage[];
}

export interface AddressData {
  address_line_1: string | null;
  address_line_2: string | null;
  city: string | null;
  postal_code: string | null;
  region: string | null;
  country_id: string | null;
}

export interface ContactPersonData {
  name: string | null;
  email: string | null;
  telephone: string | null;
  mobile: string | null;
  job_title: string | null;
}

export interface ContactRec extends Rec {
  name: string;
  reference: string;
  contact_type_ids: string[];
  main_address: AddressData | null;
  delivery_address: AddressData | null;
  main_contact_person: ContactPersonData | null;
  currency_id: string;
  tax_number: string | null;
  notes: string | null;
  locale: string | null;
  source_guid: string | null;
  aux_reference: string | null;
  default_sales_ledger_account_id: string | null;
  default_sales_tax_rate_id: string | null;
  default_purchase_ledger_account_id: string | null;
  credit_limit: number | null;
  credit_days: number | null;
  credit_terms: string | null;
}

export interface PriceData {
  price_name: string;
  price: number;
  price_includes_tax: boolean;
}

export interface ItemRec extends Rec {
  kind: "product" | "service";
  item_code: string | null;
  description: string;
  notes: string | null;
  sales_ledger_account_id: string;
  purchase_ledger_account_id: string | null;
  sales_tax_rate_id: string | null;
  purchase_tax_rate_id: string | null;
  cost_price: number | null;
  source_guid: string | null;
  active: boolean;
  prices: PriceData[];
}

export interface LineRec {
  id: string;
  description: string;
  product_id: string | null;
  service_id: string | null;
  ledger_account_id: string;
  quantity: number;
  unit_price: number;
  unit_price_includes_tax: boolean;
  discount_amount: number;
  discount_percentage: number;
  net_amount: number;
  tax_rate_id: string | null;
  tax_amount: number;
  total_amount: number;
}

export type ArtefactKind = "sales_invoice" | "sales_credit_note";

export interface ArtefactRec extends Rec {
  kind: ArtefactKind;
  prefix: string;
  number: string;
  contact_id: string;
  contact_name: string;
  contact_reference: string;
  date: string;
  due_date: string | null;
  original_invoice_date: string | null;
  reference: string | null;
  notes: string | null;
  terms_and_conditions: string | null;
  currency_id: string;
  exchange_rate: number;
  status: ArtefactStatusId;
  void_reason: string | null;
  sent: boolean;
  main_address: AddressData | null;
  lines: LineRec[];
  net_amount: number;
  tax_amount: number;
  total_amount: number;
  allocated_amount: number;
}

export interface AllocationRec extends Rec {
  transaction_type_id: string;
  contact_id: string;
  date: string;
  artefacts: Array<{ artefact_id: string; kind: ArtefactKind; amount: number }>;
}

/** Insertion-ordered store; deletions are soft (kept for `deleted_since`) and invisible to lookups. */
export class Store<T extends Rec> {
  private readonly items = new Map<string, T>();

  insert(r: T): T {
    this.items.set(r.id, r);
    return r;
  }
  get(id: string): T | undefined {
    const r = this.items.get(id);
    return r && r.deletedMs === null ? r : undefined;
  }
  live(): T[] {
    return [...this.items.values()].filter((r) => r.deletedMs === null);
  }
  deleted(): T[] {
    return [...this.items.values()].filter((r) => r.deletedMs !== null);
  }
  size(): number {
    return this.live().length;
  }
  /** Every record, deleted ones too, in insertion order (persistence). */
  all(): T[] {
    return [...this.items.values()];
  }
  /** Replaces the whole content (persistence restore). */
  replaceAll(recs: T[]): void {
    this.items.clear();
    for (const r of recs) this.items.set(r.id, r);
  }
}

export function round2(n: number): number {
  return Math.round((n + Number.EPSILON) * 100) / 100;
}

/** Sage timestamps have second precision. */
export function truncSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export interface StoredResponse {
  status: number;
  body: string;
  resourceId: string;
}

const SEED_MS = Date.parse("2024-04-01T09:00:00Z");

/** Seeded stored rates per base currency (units per 1 base unit; illustrative, not market data). */
const SEED_EXCHANGE_RATES: Record<string, Record<string, number>> = {
  GBP: { EUR: 1.17, USD: 1.27 },
  EUR: { GBP: 0.855, USD: 1.085 },
};

export class BusinessData {
  readonly ledgerAccounts = new Store<LedgerAccountRec>();
  readonly taxRates = new Store<TaxRateRec>();
  readonly contacts = new Store<ContactRec>();
  readonly products = new Store<ItemRec>();
  readonly services = new Store<ItemRec>();
  readonly salesInvoices = new Store<ArtefactRec>();
  readonly salesCreditNotes = new Store<ArtefactRec>();
  readonly allocations = new Store<AllocationRec>();
  /** `${resource}:${idempotency_id}` → the first successful response. */
  readonly idempotency = new Map<string, StoredResponse>();
  /** Timestamps (ms) of calls inside the current rate-limit window. */
  rateWindow: number[] = [];
  invoiceCounter = 0;
  creditNoteCounter = 0;
  readonly currency: string;
  /**
   * Foreign currencies (financial_settings.multi_currency_enabled). Sage's public text does not say
   * what a business without them answers to a foreign-currency document: here a 422 on currency_id
   * (configurable: POST /__sandbox/sage/currencies).
   */
  multiCurrencyEnabled = true;
  /** The business's stored exchange rates (GET /exchange_rates): units of the currency per 1 base unit. */
  exchangeRates: Record<string, { rate: number; updatedMs: number }> = {};

  constructor(
    readonly businessId: string,
    readonly country: CountryCode,
    private readonly now: () => number,
  ) {
    this.currency = COUNTRY_CURRENCY[country];
    this.seed();
    const seeded = truncSeconds(this.now());
    for (const [code, rate] of Object.entries(SEED_EXCHANGE_RATES[this.currency] ?? {})) this.exchangeRates[code] = { rate, updatedMs: seeded };
  }

  /** A fresh "now" for a write, strictly after `previous` (so updated_at always moves). */
  stamp(previous?: number): number {
    const t = truncSeconds(this.now());
    return previous !== undefined && t <= previous ? previous + 1000 : t;
  }

  touch(r: Rec): void {
    r.updatedMs = this.stamp(r.updatedMs);
  }

  softDelete(r: Rec): void {
    const t = this.stamp(r.updatedMs);
    r.deletedMs = t;
    r.updatedMs = t;
  }

  ledgerByNominal(code: number): LedgerAccountRec | undefined {
    return this.ledgerAccounts.live().find((l) => l.nominal_code === code);
  }

  artefactStore(kind: ArtefactKind): Store<ArtefactRec> {
    return kind === "sales_invoice" ? this.salesInvoices : this.salesCreditNotes;
  }

  private seedId(kind: string, key: string): string {
    return seededId(`${this.businessId}:${kind}:${key}`);
  }

  private seed(): void {
    const base = { createdMs: SEED_MS, updatedMs: SEED_MS, deletedMs: null };
    for (const t of TAX_RATES[this.country]) {
      this.taxRates.insert({ ...base, id: t.id, name: t.name, percentage: t.percentage, kind: t.kind, usage: t.usage });
    }
    for (const l of CHART_OF_ACCOUNTS[this.country]) {
      this.ledgerAccounts.insert({
        ...base,
        id: this.seedId("ledger", String(l.nominal_code)),
        nominal_code: l.nominal_code,
        name: l.name,
        display_name: l.name,
        type: l.type,
        visible_in: l.visible_in,
        tax_rate_id: l.tax_rate ?? null,
        control_name: l.control_name ?? null,
        included_in_chart: true,
      });
    }
    for (const c of CONTACT_SEEDS[this.country]) {
      this.contacts.insert({
        ...base,
        id: this.seedId("contact", c.key),
        name: c.name,
        reference: c.reference,
        contact_type_ids: c.types,
        main_address: {
          address_line_1: null,
          address_line_2: null,
          city: c.city,
          postal_code: c.postal_code,
          region: null,
          country_id: this.country,
        },
        delivery_address: null,
        main_contact_person: c.email
          ? { name: "Accounts", email: c.email, telephone: null, mobile: null, job_title: null }
          : null,
        currency_id: this.currency,
        tax_number: null,
        notes: null,
        locale: null,
        source_guid: null,
        aux_reference: null,
        default_sales_ledger_account_id: null,
        default_sales_tax_rate_id: null,
        default_purchase_ledger_account_id: null,
        credit_limit: null,
        credit_days: 30,
        credit_terms: "date_from_invoice",
      });
    }
    const purchase = this.ledgerByNominal(5000);
    for (const i of ITEM_SEEDS[this.country]) {
      const sales = this.ledgerByNominal(i.sales_nominal);
      if (!sales) continue;
      const rec: ItemRec = {
        ...base,
        id: this.seedId(i.kind, i.key),
        kind: i.kind,
        item_code: i.item_code,
        description: i.description,
        notes: null,
        sales_ledger_account_id: sales.id,
        purchase_ledger_account_id: purchase?.id ?? null,
        sales_tax_rate_id: sales.tax_rate_id,
        purchase_tax_rate_id: null,
        cost_price: null,
        source_guid: null,
        active: true,
        prices: [{ price_name: "Selling Price", price: i.price, price_includes_tax: false }],
      };
      (i.kind === "product" ? this.products : this.services).insert(rec);
    }
  }
}
