import type { SageError } from "./errors";

export type SageTargetId = "sage-accounting";

export type SageTokenSet = {
  accessToken: string;
  refreshToken: string;
  /** seconds */
  expiresIn: number;
  /** seconds */
  refreshTokenExpiresIn: number;
  scope?: string;
  sageUserId?: string;
};

export type SageBusiness = { id: string; name: string; country?: string | null };

export type Country = { code: string; label: string };

// ─── capabilities ────────────────────────────────────────────────────────────────────────────

/** What the sync writes or reads in a Sage product, by kind of record. */
export const SAGE_RECORD_KINDS = ["contacts", "items", "invoices", "credit_notes", "allocations"] as const;
export type SageRecordKind = (typeof SAGE_RECORD_KINDS)[number];
export type SageRecordAccess = { read: boolean; create: boolean; update: boolean };
/** One row per kind of record: what the target's API can read, create and update. */
export type SageCapabilityTable = Record<SageRecordKind, SageRecordAccess>;

export const SAGE_RECORD_LABELS: Record<SageRecordKind, string> = {
  contacts: "Customer contacts",
  items: "Products and services",
  invoices: "Sales invoices",
  credit_notes: "Sales credit notes",
  allocations: "Credit note allocations",
};

// ─── a session: what the caller hands a target for one connection ──────────────────────────────

/** The bearer credential a call goes out with, and the business it is for (`X-Business`). */
export type SageAccessGrant = { accessToken: string; businessId: string | null };

/** How a target retries one call. Tests shorten the delays; the shape stays. */
export type SageRetryPolicy = {
  /** attempts in total, including the first */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** abort one HTTP attempt after this long */
  attemptTimeoutMs: number;
  /** upper bound for honouring Retry-After */
  maxRetryAfterMs: number;
};

/**
 * What a target needs to call Sage for one connection, without knowing where credentials and pacing
 * live (lib/sage/ knows no database): the caller (lib/connections/sage-session.ts) provides them.
 */
export type SageSession = {
  credentials: {
    /** a usable access grant (refreshed before it expires) */
    current(): Promise<SageAccessGrant>;
    /** Sage answered 401 to `rejectedToken`: a new grant, refreshing once across every caller */
    afterRejection(rejectedToken: string): Promise<SageAccessGrant>;
  };
  /** awaited before every attempt: the shared rate budget of the Sage business */
  beforeAttempt?: () => Promise<void>;
  policy?: Partial<SageRetryPolicy>;
  /**
   * Repeat a write that carries an idempotency_id when its outcome is unknown (default true). The
   * sync engine turns this off: it looks the record up before it tries again.
   */
  retryUnknownWrites?: boolean;
};

// ─── the records the sync and the mapping screens work with ───────────────────────────────────

export type SageContactRecord = { id: string; displayedAs: string | null; name: string | null; reference: string | null; email: string | null; currency: string | null };

/** A marketplace customer as a Sage customer contact (the target maps it to its own shape). */
export type SageContactDraft = {
  name: string;
  reference: string;
  currency: string | null;
  email: string | null;
  phone?: string;
  contactName?: string;
  taxNumber?: string;
  address?: { line1?: string; line2?: string; city?: string; postalCode?: string; region?: string; country?: string };
};

export type SageItemType = "product" | "service";
export type SageItemRecord = {
  id: string;
  type: SageItemType;
  displayedAs: string | null;
  itemCode: string | null;
  description: string | null;
  active: boolean | null;
  prices: { name: string | null; amount: number | string | null }[];
  salesLedgerAccountId: string | null;
  salesTaxRateId: string | null;
};
export type SageItemDraft = {
  type: SageItemType;
  description: string;
  itemCode: string;
  notes?: string;
  sourceGuid: string;
  price: number | null;
  salesLedgerAccountId: string;
  purchaseLedgerAccountId?: string;
};

export type SageLedgerAccount = { id: string; nominalCode: number | null; taxRateId: string | null };

/** The reference data a document plan needs from the business. */
export type SageSalesReferenceData = {
  taxRates: { id: string; percentage: number }[];
  salesLedgers: SageLedgerAccount[];
  baseCurrency: string | null;
  multiCurrency: boolean;
  country: string | null;
  /** units of the currency per 1 unit of the base currency (read only when multi-currency is on) */
  exchangeRates: { currency: string; rate: number }[];
};

export type SageDocumentKind = "sales_invoice" | "sales_credit_note";
export type SageDocumentLine = {
  description: string;
  quantity: number;
  unitPrice: number;
  ledgerAccountId: string;
  taxRateId: string;
  taxAmount: number;
  productId?: string;
  serviceId?: string;
};
/** One invoice or credit note as the sync planned it; `idempotencyId` is 32 hex characters. */
export type SageDocumentDraft = {
  kind: SageDocumentKind;
  contactId: string;
  /** the marketplace order id: the look-up key of the exactly-once protocol */
  reference: string;
  /** the business's calendar day, YYYY-MM-DD */
  date: string;
  currency: string | null;
  exchangeRate: number | null;
  lines: SageDocumentLine[];
  totals: { net: number; tax: number; total: number };
  idempotencyId: string;
  /** a refund credit note: the invoice it refunds */
  refunds?: { number: string; date: string } | null;
};
export type SageDocumentRef = { id: string; displayedAs: string | null };
export type SageDocumentSummary = SageDocumentRef & { reference: string | null; contactId: string | null; voided: boolean };
export type SageDocumentDetail = SageDocumentRef & { status: string | null; outstanding: number; contactId: string | null; lineCount: number };
/**
 * Sage's 2xx answer to a create, as soon as its head arrives: the document exists. `read()` reads
 * its id and number from the body (which may still fail: the caller then looks it up by reference).
 */
export type SageCreatedAnswer = { read(): Promise<SageDocumentRef> };

export type SageAllocationDraft = { contactId: string; date: string; invoiceId: string; creditNoteId: string; amount: number };

/**
 * The operations the sync and the mapping screens need from one connected Sage business, in the
 * domain's words. Every failure is a `SageError` (kinds: auth, validation, rate_limit, not_found,
 * retryable, unknown_outcome); every call draws from the session's rate budget.
 */
export interface SageConnectionApi {
  whoAmI(): Promise<{ name: string }>;
  getBusiness(id: string): Promise<{ id: string; name: string | null }>;

  getContact(id: string): Promise<SageContactRecord | null>;
  findContactsByEmail(email: string): Promise<SageContactRecord[]>;
  /** candidates whose reference may match (the caller decides on the exact one) */
  findContactsByReference(reference: string): Promise<SageContactRecord[]>;
  listCustomerContacts(): Promise<SageContactRecord[]>;
  createContact(draft: SageContactDraft, idempotencyId: string): Promise<SageContactRecord>;

  getItem(type: SageItemType, id: string): Promise<SageItemRecord>;
  listItems(type: SageItemType): Promise<SageItemRecord[]>;
  findItems(type: SageItemType, search: string): Promise<SageItemRecord[]>;
  createItem(draft: SageItemDraft, idempotencyId: string): Promise<SageItemRecord>;
  listLedgerAccounts(visibleIn: "sales" | "expenses"): Promise<SageLedgerAccount[]>;

  salesReferenceData(): Promise<SageSalesReferenceData>;

  createDocument(draft: SageDocumentDraft): Promise<SageCreatedAnswer>;
  /** the document we wrote for `reference` (not void), if Sage has it */
  findDocumentByReference(kind: SageDocumentKind, reference: string, contactId: string): Promise<SageDocumentRef | null>;
  /** documents created or updated since `since` (the look-up of interrupted writes) */
  documentsSince(kind: SageDocumentKind, since: Date): Promise<SageDocumentSummary[]>;
  getDocument(kind: SageDocumentKind, id: string): Promise<SageDocumentDetail>;
  appendInvoiceLines(invoiceId: string, lines: SageDocumentLine[]): Promise<void>;
  createAllocation(draft: SageAllocationDraft): Promise<{ id: string | null }>;
}

/**
 * What every Sage product we connect to offers the rest of the app. One folder per target under
 * lib/sage/<target>/ implements it; errors are always `SageError`.
 */
export interface SageTarget {
  id: SageTargetId;
  label: string;
  countries: Country[];
  /** calls per period, per business; the sync engine throttles to this */
  rateLimit: { limit: number; periodSeconds: number };
  /** what the target's API can read, create and update; the sync checks it before it plans a write */
  capabilities: SageCapabilityTable;
  /** how the documents reach Sage: calls per record, or files exchanged (Sage 50 Cloud) */
  exchange: "api" | "file_exchange";
  authorizationUrl(params: { state: string; country: string; redirectUri: string }): string;
  exchangeCode(params: { code: string; redirectUri: string }): Promise<SageTokenSet>;
  refreshTokens(refreshToken: string): Promise<SageTokenSet>;
  listBusinesses(accessToken: string): Promise<SageBusiness[]>;
  /** the operations on one connected business */
  connect(session: SageSession): SageConnectionApi;
}

export type { SageError };
