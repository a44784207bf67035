// In-memory state of the simulated Sage 50 Cloud (Connected Cloud) platform: developer
// registrations, applications, passcodes, API keys, and per company its latest file per scope,
// uploads and the documents they created. Everything but the config and the faults is persisted.
import { randomBytes, randomUUID } from "node:crypto";
import { resolveSage50Config, type Sage50Config } from "./config";
import { companySeeds, SEED_TIMESTAMP, type Record50 } from "./seed";

export const FILE_SCOPES = ["Products", "Customers"] as const;
export type FileScope = (typeof FILE_SCOPES)[number];
export const DOMAIN = "ecommerce";
export const DOMAIN_LABEL = "e-Commerce";

export interface Registration {
  token: string;
  name: string;
  email: string;
  createdMs: number;
  completed: boolean;
}

export interface Developer {
  id: string;
  name: string;
  email: string;
  createdMs: number;
}

export interface Application {
  id: string;
  developerId: string;
  name: string;
  secret: string;
  approvalUrl: string | null;
  notificationUrl: string | null;
  createdMs: number;
}

/** What the registration e-mail carries (the sandbox mailbox). */
export interface MailMessage {
  email: string;
  developerId: string;
  applicationId: string;
  secret: string;
  sentAt: string;
}

export interface Passcode {
  code: string;
  developerId: string;
  applicationId: string;
  createdMs: number;
  expiresMs: number;
  used: boolean;
}

/** One key per company × application; a new grant or a rotation replaces it. */
export interface ApiKey {
  key: string;
  companyId: string;
  applicationId: string;
  createdMs: number;
  expiresMs: number;
}

export interface ScopeFile {
  scope: FileScope;
  fileId: string;
  version: number;
  updatedMs: number;
  records: Record50[];
}

export type RecordStatus = "accepted" | "failed";
export type FinalStatus = "accepted" | "failed" | "badRequest";

export interface RecordResult {
  id: string;
  status: RecordStatus;
  documentType: string;
  documentNumber?: string;
  message?: string;
}

export interface Upload {
  uploadId: string;
  companyId: string;
  applicationId: string;
  scope: string;
  records: unknown[];
  createdMs: number;
  /** Why the file is unusable (decided when it arrives); null when it is fine. */
  badRequest: string | null;
  /** tracking_stuck: stays in "processing" until released. */
  stuck: boolean;
  releasedMs: number | null;
  /** partial_failure fault in force when the upload arrived. */
  forcedFailures: { recordIds: string[]; message: string } | null;
  /** Set once processing has finished (documents created). */
  outcome: { status: FinalStatus; results: RecordResult[] | null; settledMs: number } | null;
}

export interface Document50 {
  orderId: string;
  type: "invoice" | "creditNote";
  documentNumber: string;
  uploadId: string;
  createdMs: number;
}

export interface Company {
  id: string;
  name: string;
  country: string;
  currency: string;
  taxRate: number;
  files: Record<FileScope, ScopeFile>;
  rotations: number;
  invoiceCounter: number;
  creditNoteCounter: number;
  documents: Document50[];
  /** In arrival order. */
  uploads: Upload[];
}

export type Sage50FaultInput =
  | { kind: "expire_key_after"; calls: number }
  | { kind: "tracking_stuck"; uploads: number }
  | { kind: "partial_failure"; recordIds: string[]; message: string }
  | { kind: "bad_request"; uploads: number }
  | { kind: "drop_after_store"; uploads: number };
export type Sage50Fault = Sage50FaultInput & { id: number };

/** A call to an application (approval or notification), kept for the control state. */
export interface CallRecord {
  seq: number;
  kind: "approval" | "notification";
  applicationId: string;
  url: string;
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  signed: boolean;
}

export interface Sage50Snapshot {
  registrations: Registration[];
  developers: Developer[];
  applications: Application[];
  mailbox: MailMessage[];
  passcodes: Passcode[];
  apiKeys: ApiKey[];
  companies: Company[];
}

const PASSCODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function randomFrom(alphabet: string, n: number): string {
  let s = "";
  for (const b of randomBytes(n)) s += alphabet[b % alphabet.length];
  return s;
}

export function newToken(): string {
  return randomBytes(18).toString("base64url");
}
export function newId(): string {
  return randomUUID();
}
export function newSecret(): string {
  return randomBytes(24).toString("base64url");
}
export function newApiKey(): string {
  return `s50k_${randomBytes(24).toString("base64url")}`;
}
/** "ABCD-2345": two groups of four from letters and digits that cannot be confused (no I, O, 0, 1). */
export function newPasscode(): string {
  return `${randomFrom(PASSCODE_ALPHABET, 4)}-${randomFrom(PASSCODE_ALPHABET, 4)}`;
}

export function fileIdOf(companyId: string, scope: FileScope, version: number): string {
  return `${companyId}-${scope}-${version}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class Sage50World {
  config: Sage50Config;
  readonly registrations = new Map<string, Registration>();
  readonly developers = new Map<string, Developer>();
  readonly applications = new Map<string, Application>();
  mailbox: MailMessage[] = [];
  readonly passcodes = new Map<string, Passcode>();
  readonly apiKeys = new Map<string, ApiKey>();
  readonly companies = new Map<string, Company>();
  faults: Sage50Fault[] = [];
  private nextFaultId = 1;
  calls: CallRecord[] = [];
  private callSeq = 0;

  constructor(
    readonly now: () => number,
    configOptions: Partial<Sage50Config> = {},
  ) {
    this.config = resolveSage50Config(configOptions);
    const seedMs = Date.parse(SEED_TIMESTAMP);
    for (const c of companySeeds()) {
      this.companies.set(c.id, {
        id: c.id,
        name: c.name,
        country: c.country,
        currency: c.currency,
        taxRate: c.taxRate,
        files: {
          Products: { scope: "Products", fileId: fileIdOf(c.id, "Products", 1), version: 1, updatedMs: seedMs, records: c.products },
          Customers: { scope: "Customers", fileId: fileIdOf(c.id, "Customers", 1), version: 1, updatedMs: seedMs, records: c.customers },
        },
        rotations: 0,
        invoiceCounter: 1000,
        creditNoteCounter: 1000,
        documents: [],
        uploads: [],
      });
    }
  }

  /** The key record of a company × application, if any. */
  keyFor(companyId: string, applicationId: string): ApiKey | undefined {
    for (const k of this.apiKeys.values()) if (k.companyId === companyId && k.applicationId === applicationId) return k;
    return undefined;
  }

  /** Makes a new key for company × application; the previous one stops working at once. */
  issueKey(companyId: string, applicationId: string): ApiKey {
    const old = this.keyFor(companyId, applicationId);
    if (old) this.apiKeys.delete(old.key);
    const now = this.now();
    const key: ApiKey = { key: newApiKey(), companyId, applicationId, createdMs: now, expiresMs: now + this.config.apiKeyTtlS * 1000 };
    this.apiKeys.set(key.key, key);
    return key;
  }

  /** Replaces a scope file with a new version (new fileId). */
  replaceFile(company: Company, scope: FileScope, records: Record50[]): ScopeFile {
    const version = company.files[scope].version + 1;
    const file: ScopeFile = { scope, fileId: fileIdOf(company.id, scope, version), version, updatedMs: this.now(), records };
    company.files[scope] = file;
    return file;
  }

  addFault(input: Sage50FaultInput): Sage50Fault {
    const fault = { ...input, id: this.nextFaultId++ } as Sage50Fault;
    this.faults.push(fault);
    return fault;
  }

  /** Consumes one upload of the first counting fault of this kind; true when it fired. */
  takeUploadFault(kind: "tracking_stuck" | "bad_request" | "drop_after_store"): boolean {
    const f = this.faults.find((x) => x.kind === kind && x.uploads > 0);
    if (!f || f.kind !== kind) return false;
    f.uploads -= 1;
    if (f.uploads <= 0) this.faults = this.faults.filter((x) => x !== f);
    return true;
  }

  partialFailure(): { recordIds: string[]; message: string } | null {
    const f = this.faults.find((x) => x.kind === "partial_failure");
    return f && f.kind === "partial_failure" ? { recordIds: f.recordIds.slice(), message: f.message } : null;
  }

  recordCall(r: Omit<CallRecord, "seq" | "at">): void {
    this.callSeq += 1;
    this.calls.push({ seq: this.callSeq, at: iso(this.now()), ...r });
    if (this.calls.length > 1000) this.calls.splice(0, this.calls.length - 1000);
  }

  snapshot(): Sage50Snapshot {
    return {
      registrations: [...this.registrations.values()],
      developers: [...this.developers.values()],
      applications: [...this.applications.values()],
      mailbox: this.mailbox.slice(),
      passcodes: [...this.passcodes.values()],
      apiKeys: [...this.apiKeys.values()],
      companies: [...this.companies.values()],
    };
  }

  /** Loads a snapshot over the freshly seeded world (companies in it replace their seeds). */
  restore(s: Sage50Snapshot): void {
    const fill = <T>(map: Map<string, T>, items: T[], key: (t: T) => string): void => {
      map.clear();
      for (const i of items) map.set(key(i), i);
    };
    fill(this.registrations, s.registrations, (r) => r.token);
    fill(this.developers, s.developers, (d) => d.id);
    fill(this.applications, s.applications, (a) => a.id);
    fill(this.passcodes, s.passcodes, (p) => p.code);
    fill(this.apiKeys, s.apiKeys, (k) => k.key);
    this.mailbox = s.mailbox.slice();
    for (const c of s.companies) this.companies.set(c.id, c);
  }
}
