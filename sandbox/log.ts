// The request log: one entry per request the sandbox received (control API excluded),
// with credentials masked. Served as JSON lines by GET /__sandbox/requests.

export interface LogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  form?: Record<string, string>;
  body?: unknown;
  status: number | null;
  route: string;
  grant_type?: string;
  business?: string;
  spec_violation?: boolean;
  /** "ok" normally; "dropped", "timeout", "commit-then-drop", "commit-then-truncate" when a fault ate the response. */
  outcome: string;
  fault?: string;
  duration_ms?: number;
  [extra: string]: unknown;
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"]);
const SECRET_FORM_KEYS = new Set([
  "client_secret",
  "code",
  "refresh_token",
  "access_token",
  "id_token",
  "password",
  "secret",
  "token",
  "passcode",
]);

export function maskValue(value: string): string {
  if (value.length <= 8) return "***";
  return `***${value.slice(-4)}`;
}

export function maskHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(", ") : v;
    const key = k.toLowerCase();
    if (SECRET_HEADERS.has(key)) {
      const m = /^(\w+)\s+(.*)$/.exec(value);
      out[key] = m ? `${m[1]} ${maskValue(m[2] ?? "")}` : maskValue(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function maskForm(form: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) out[k] = SECRET_FORM_KEYS.has(k) ? maskValue(v) : v;
  return out;
}

/** Masks JSON bodies: keys that look like credentials (…secret, …password, …token, …apikey). */
export function maskJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskJson);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (/(secret|password|token|apikey)$/i.test(k) && typeof v === "string") out[k] = maskValue(v);
      else out[k] = maskJson(v);
    }
    return out;
  }
  return value;
}

export class RequestLog {
  private entries: LogEntry[] = [];
  private seq = 0;

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  push(entry: LogEntry): void {
    this.entries.push(entry);
    // Keep memory bounded in long demo runs.
    if (this.entries.length > 20_000) this.entries.splice(0, this.entries.length - 20_000);
  }

  all(): LogEntry[] {
    return this.entries.slice();
  }

  clear(): void {
    this.entries = [];
  }

  /** The newest `max` entries and the sequence counter (persistence). */
  snapshot(max: number): { seq: number; entries: LogEntry[] } {
    return { seq: this.seq, entries: this.entries.slice(-max) };
  }

  /** Restores a snapshot (persistence): entries kept, numbering continues after `seq`. */
  restore(s: { seq: number; entries: LogEntry[] }): void {
    this.entries = s.entries.slice();
    this.seq = Math.max(this.seq, s.seq);
  }

  toJsonLines(filter?: (e: LogEntry) => boolean): string {
    const list = filter ? this.entries.filter(filter) : this.entries;
    return list.map((e) => JSON.stringify(e)).join("\n") + (list.length ? "\n" : "");
  }
}
