// In-memory state of the simulated Sage Business Cloud Accounting: users, businesses,
// OAuth grants, and (per business) the accounting data.
import {
  BUSINESS_SEEDS,
  COUNTRY_CURRENCY,
  USER_SEEDS,
  businessId,
  userId,
  type CountryCode,
} from "./seed-users";
import {
  BusinessData,
  type AllocationRec,
  type ArtefactRec,
  type ContactRec,
  type ItemRec,
  type LedgerAccountRec,
  type StoredResponse,
  type TaxRateRec,
} from "./data";

export interface SageUser {
  id: string;
  key: string;
  first_name: string;
  last_name: string;
  email: string;
  locale: string;
  businessIds: string[];
  leadBusinessId: string;
  created_at: string;
  updated_at: string;
}

export interface SageBusiness {
  id: string;
  key: string;
  name: string;
  country: CountryCode;
  currency: string;
  address_line_1: string;
  city: string;
  postal_code: string;
  telephone: string;
  website: string;
  subscriptionActive: boolean;
  created_at: string;
  updated_at: string;
}

export type Scope = "full_access" | "readonly";

export interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  userId: string;
  scope: Scope;
  country: string;
  expiresAt: number;
  used: boolean;
}

/** A consent screen that has been shown but not yet answered. */
export interface PendingAuthorization {
  id: string;
  clientId: string;
  redirectUri: string;
  scope: Scope;
  state: string | undefined;
  country: string | undefined;
  createdAt: number;
}

export interface AccessToken {
  token: string;
  clientId: string;
  userId: string;
  scope: Scope;
  issuedAt: number;
  expiresAt: number;
}

export interface RefreshToken {
  token: string;
  clientId: string;
  userId: string;
  scope: Scope;
  issuedAt: number;
  expiresAt: number;
  used: boolean;
  revoked: boolean;
}

/** Sage timestamps: ISO 8601 with second precision, UTC ("2026-01-31T10:00:00Z"). */
export function sageTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** Plain-JSON form of one business's accounting data (persistence; Maps become arrays). */
export interface BusinessDataSnapshot {
  businessId: string;
  country: CountryCode;
  ledgerAccounts: LedgerAccountRec[];
  taxRates: TaxRateRec[];
  contacts: ContactRec[];
  products: ItemRec[];
  services: ItemRec[];
  salesInvoices: ArtefactRec[];
  salesCreditNotes: ArtefactRec[];
  allocations: AllocationRec[];
  idempotency: Array<[string, StoredResponse]>;
  rateWindow: number[];
  invoiceCounter: number;
  creditNoteCounter: number;
  multiCurrencyEnabled?: boolean;
  exchangeRates?: Record<string, { rate: number; updatedMs: number }>;
}

/** Plain-JSON form of the whole simulated Sage (persistence). */
export interface SageSnapshot {
  users: SageUser[];
  businesses: SageBusiness[];
  pendingAuthorizations: PendingAuthorization[];
  codes: AuthCode[];
  accessTokens: AccessToken[];
  refreshTokens: RefreshToken[];
  data: BusinessDataSnapshot[];
}

// Seed records pretend to have been created well before "now".
const SEED_CREATED_AT = "2024-04-01T09:00:00Z";

export class SageWorld {
  readonly users = new Map<string, SageUser>();
  readonly businesses = new Map<string, SageBusiness>();
  readonly pendingAuthorizations = new Map<string, PendingAuthorization>();
  readonly codes = new Map<string, AuthCode>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  readonly data = new Map<string, BusinessData>();

  constructor(private readonly now: () => number) {
    for (const b of BUSINESS_SEEDS) {
      const id = businessId(b.key);
      this.businesses.set(id, {
        id,
        key: b.key,
        name: b.name,
        country: b.country,
        currency: COUNTRY_CURRENCY[b.country],
        address_line_1: b.address_line_1,
        city: b.city,
        postal_code: b.postal_code,
        telephone: b.telephone,
        website: b.website,
        subscriptionActive: true,
        created_at: SEED_CREATED_AT,
        updated_at: SEED_CREATED_AT,
      });
      this.data.set(id, new BusinessData(id, b.country, this.now));
    }
    for (const u of USER_SEEDS) {
      const ids = u.businesses.map(businessId);
      const lead = ids[0];
      if (!lead) throw new Error(`seed user ${u.key} has no business`);
      this.users.set(userId(u.key), {
        id: userId(u.key),
        key: u.key,
        first_name: u.first_name,
        last_name: u.last_name,
        email: u.email,
        locale: u.locale,
        businessIds: ids,
        leadBusinessId: lead,
        created_at: SEED_CREATED_AT,
        updated_at: SEED_CREATED_AT,
      });
    }
  }

  /** Everything this world holds, as plain JSON (persistence). */
  snapshot(): SageSnapshot {
    return {
      users: [...this.users.values()],
      businesses: [...this.businesses.values()],
      pendingAuthorizations: [...this.pendingAuthorizations.values()],
      codes: [...this.codes.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
      data: [...this.data.values()].map((d) => ({
        businessId: d.businessId,
        country: d.country,
        ledgerAccounts: d.ledgerAccounts.all(),
        taxRates: d.taxRates.all(),
        contacts: d.contacts.all(),
        products: d.products.all(),
        services: d.services.all(),
        salesInvoices: d.salesInvoices.all(),
        salesCreditNotes: d.salesCreditNotes.all(),
        allocations: d.allocations.all(),
        idempotency: [...d.idempotency],
        rateWindow: d.rateWindow.slice(),
        invoiceCounter: d.invoiceCounter,
        creditNoteCounter: d.creditNoteCounter,
        multiCurrencyEnabled: d.multiCurrencyEnabled,
        exchangeRates: { ...d.exchangeRates },
      })),
    };
  }

  /**
   * Loads a snapshot over the freshly seeded world: users, businesses and business data in the
   * snapshot replace their seeds (seeds missing from it stay); grants are replaced entirely.
   */
  restore(s: SageSnapshot): void {
    for (const u of s.users) this.users.set(u.id, u);
    for (const b of s.businesses) this.businesses.set(b.id, b);
    this.pendingAuthorizations.clear();
    for (const p of s.pendingAuthorizations) this.pendingAuthorizations.set(p.id, p);
    this.codes.clear();
    for (const c of s.codes) this.codes.set(c.code, c);
    this.accessTokens.clear();
    for (const t of s.accessTokens) this.accessTokens.set(t.token, t);
    this.refreshTokens.clear();
    for (const t of s.refreshTokens) this.refreshTokens.set(t.token, t);
    for (const d of s.data) {
      let data = this.data.get(d.businessId);
      if (!data) {
        data = new BusinessData(d.businessId, d.country, this.now);
        this.data.set(d.businessId, data);
      }
      data.ledgerAccounts.replaceAll(d.ledgerAccounts);
      data.taxRates.replaceAll(d.taxRates);
      data.contacts.replaceAll(d.contacts);
      data.products.replaceAll(d.products);
      data.services.replaceAll(d.services);
      data.salesInvoices.replaceAll(d.salesInvoices);
      data.salesCreditNotes.replaceAll(d.salesCreditNotes);
      data.allocations.replaceAll(d.allocations);
      data.idempotency.clear();
      for (const [k, v] of d.idempotency) data.idempotency.set(k, v);
      data.rateWindow = d.rateWindow.slice();
      data.invoiceCounter = d.invoiceCounter;
      data.creditNoteCounter = d.creditNoteCounter;
      if (d.multiCurrencyEnabled !== undefined) data.multiCurrencyEnabled = d.multiCurrencyEnabled;
      if (d.exchangeRates) data.exchangeRates = { ...d.exchangeRates };
    }
  }

  userName(u: SageUser): string {
    return `${u.first_name} ${u.last_name}`;
  }

  findBusiness(idOrKey: string): SageBusiness | undefined {
    const byId = this.businesses.get(idOrKey);
    if (byId) return byId;
    for (const b of this.businesses.values()) if (b.key === idOrKey) return b;
    return undefined;
  }
}
