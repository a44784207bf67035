import type { SageError } from "./errors";

export type SageTargetId = "sage-accounting" | "sage-50-cloud";

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
  /**
   * Called once per HTTP attempt (retries, refreshes on 401 and failures included), after its answer
   * or its failure: the order trace records it (lib/trace/sage-call-recorder.ts). Must not throw and
   * must not wait on anything slow; the bodies are raw (the observer redacts them).
   */
  onAttempt?: (record: SageAttemptRecord) => void;
};

/** One HTTP attempt a target made, as its session's observer sees it. */
export type SageAttemptRecord = {
  target: SageTargetId;
  startedAt: Date;
  method: string;
  /** the full URL (the observer keeps its path only) */
  url: string;
  /** null: no HTTP answer (network error, timeout) */
  status: number | null;
  durationMs: number;
  /** 1 = the first attempt, > 1 = a retry */
  attempt: number;
  errorKind: string | null;
  errorMessage: string | null;
  requestBody: string | null;
  /** the answer's text; a promise when the caller reads the body later (the write fast path) */
  responseBody: string | null | Promise<string | null>;
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
  /** one page (1-based) of the customer contacts, for bounded reads with progress */
  listCustomerContactsPage(page: number, perPage: number): Promise<{ contacts: SageContactRecord[]; total: number; hasMore: boolean }>;
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

// ─── file exchange (Sage 50 Cloud / Connected Cloud) ──────────────────────────────────────────

export type SageFileScope = "Products" | "Customers";
export type SageFileInfo = { scope: SageFileScope; fileId: string; updatedAt: string };
/** A scope file holds the FULL data: a record absent from it was deleted in Sage. */
export type SageScopeFile =
  | { scope: "Products"; fileId: string; generatedAt: string; items: SageItemRecord[] }
  | { scope: "Customers"; fileId: string; generatedAt: string; contacts: SageContactRecord[] };
export type SageUploadStatus = "received" | "validating" | "processing" | "accepted" | "failed" | "badRequest";
export type SageUploadTracking = { uploadId: string; status: SageUploadStatus; progress: number; statusMessage: string | null; resultUrl: string | null };
export type SageUploadRecordResult = { reference: string; status: "accepted" | "failed"; documentNumber: string | null; message: string | null; kind: SageDocumentKind };
export const FINAL_UPLOAD_STATUSES: readonly SageUploadStatus[] = ["accepted", "failed", "badRequest"];

/** The operations of a file-exchange target on one connected company (its API key in the session). */
export interface SageFileExchangeApi {
  listFiles(): Promise<SageFileInfo[]>;
  downloadScope(scope: SageFileScope): Promise<SageScopeFile>;
  /** `duplicate`: Sage already holds an upload with this id (nothing was sent again) */
  upload(uploadId: string, documents: SageDocumentDraft[]): Promise<{ trackingUrl: string; duplicate: boolean }>;
  /** null: Sage holds no upload with this id */
  tracking(uploadId: string): Promise<SageUploadTracking | null>;
  results(resultUrl: string): Promise<SageUploadRecordResult[]>;
}

/** The application's registration with a file-exchange platform (once per deployment, kept encrypted). */
export type SageApplicationRegistration = { developerId: string; applicationId: string; secret: string };

/** Operator and consent operations of a file-exchange target (no connection yet: the application's secret). */
export interface SageFileExchangeOnboarding {
  registerDeveloper(input: { name: string; email: string }): Promise<{ registrationUrl: string }>;
  configureApplication(app: SageApplicationRegistration, urls: { approvalUrl: string; notificationUrl: string }): Promise<void>;
  createPasscode(app: SageApplicationRegistration): Promise<{ passcode: string; expiresAt: Date }>;
  /**
   * A call the platform made to us (approval, notification), verified with the application secret:
   * the parsed JSON body, or a SageError("auth") when the signature does not hold.
   */
  verifyCall(app: SageApplicationRegistration, headers: Headers, body: string): unknown;
}

/**
 * What every Sage product we connect to offers the rest of the app. One folder per target under
 * lib/sage/<target>/ implements it; errors are always `SageError`. `exchange` tells the two kinds
 * apart: `api` targets (OAuth 2.0, one call per record) and `file_exchange` targets (an API key
 * granted with a passcode, data downloaded and uploaded as files).
 */
interface SageTargetCommon {
  id: SageTargetId;
  label: string;
  countries: Country[];
  /** calls per period, per business; the sync engine throttles to this */
  rateLimit: { limit: number; periodSeconds: number };
  /** what the target's API can read, create and update; the sync checks it before it plans a write */
  capabilities: SageCapabilityTable;
  /**
   * New credentials from the stored renewal credential: the OAuth refresh token, or the API key to
   * rotate (file exchange: with the application's secret in `context`). A refusal is a SageError with
   * `reconnectRequired`.
   */
  refreshTokens(refreshToken: string, context?: { application?: SageApplicationRegistration }): Promise<SageTokenSet>;
}

export interface SageApiTarget extends SageTargetCommon {
  exchange: "api";
  credentialsKind: "oauth";
  authorizationUrl(params: { state: string; country: string; redirectUri: string }): string;
  exchangeCode(params: { code: string; redirectUri: string }): Promise<SageTokenSet>;
  listBusinesses(accessToken: string): Promise<SageBusiness[]>;
  /** the operations on one connected business */
  connect(session: SageSession): SageConnectionApi;
}

export interface SageFileExchangeTarget extends SageTargetCommon {
  exchange: "file_exchange";
  credentialsKind: "api_key";
  onboarding: SageFileExchangeOnboarding;
  /** the file operations on one connected company */
  files(session: SageSession): SageFileExchangeApi;
  /**
   * The reference data a document plan needs, from what the downloaded catalog says (a file-exchange
   * target has no reference-data API): the tax rates its items use, the company's base currency by
   * its country. Pure.
   */
  referenceData(input: { itemTaxRateIds: (string | null)[]; country: string }): SageSalesReferenceData & { defaultLedgerAccountId: string };
}

export type SageTarget = SageApiTarget | SageFileExchangeTarget;

export type { SageError };
