// Optional persistence of a sandbox's state in one JSON file (`<dataDir>/sandbox-state.json`), so a
// demo or a test can kill the sandbox (even with SIGKILL) and start it again on the same directory:
// Sage users, businesses, consent requests, codes, access and refresh tokens, per-business data
// (contacts, items, invoices, credit notes, allocations, ledgers, tax rates, idempotency keys, rate
// windows, counters), the marketplace accounts (catalog, customers, subscriptions, requests,
// installation with its webhook secrets), the Sage 50 Cloud simulator (developers, applications,
// mailbox, passcodes, API keys, companies with files, uploads and documents), the sandbox clock offset
// and the newest request-log entries.
// Not kept: config (TTLs, rate limit, webhook settings, redirect URIs, Sage 50 settings), faults,
// webhook and Sage 50 call records and pending retries.
//
// Writes are atomic (temp file + rename) and happen at most SAVE_DELAY_MS after a change (changes in
// between are coalesced); a very large state backs off to a few times its own serialization time.
import fs from "node:fs";
import path from "node:path";
import type { Sandbox } from "./context";
import type { LogEntry } from "./log";
import type { MarketplaceSnapshot } from "./marketplace/world";
import type { SageSnapshot } from "./sage/world";
import type { Sage50Snapshot } from "./sage50/state";

export const STATE_FILE = "sandbox-state.json";
const VERSION = 1;
const SAVE_DELAY_MS = 50;
const MAX_SAVE_DELAY_MS = 1000;
/** Request-log entries kept in the file (the live log keeps more). */
const PERSISTED_LOG_ENTRIES = 2000;

export interface SandboxSnapshot {
  version: number;
  saved_at: string;
  clockOffsetMs: number;
  sage: SageSnapshot;
  marketplace: MarketplaceSnapshot;
  /** Absent in files written before the Sage 50 simulator existed (then it starts from its seeds). */
  sage50?: Sage50Snapshot;
  log: { seq: number; entries: LogEntry[] };
}

export function snapshotSandbox(sb: Sandbox): SandboxSnapshot {
  return {
    version: VERSION,
    saved_at: new Date().toISOString(),
    clockOffsetMs: sb.clockOffsetMs,
    sage: sb.sage.snapshot(),
    marketplace: sb.marketplace.snapshot(),
    sage50: sb.sage50.snapshot(),
    log: sb.log.snapshot(PERSISTED_LOG_ENTRIES),
  };
}

/** Loads a snapshot into a freshly constructed sandbox. */
export function restoreSandbox(sb: Sandbox, snap: SandboxSnapshot): void {
  sb.clockOffsetMs = snap.clockOffsetMs;
  sb.sage.restore(snap.sage);
  sb.marketplace.restore(snap.marketplace);
  if (snap.sage50) sb.sage50.restore(snap.sage50);
  sb.log.restore(snap.log);
}

export class StatePersister {
  readonly file: string;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private lastSaveMs = 0;
  private closed = false;

  constructor(
    private readonly sb: Sandbox,
    dir: string,
  ) {
    this.file = path.join(path.resolve(dir), STATE_FILE);
  }

  /**
   * Loads the state file if there is one. Returns "loaded", "fresh" (no file) or "unreadable" (the
   * file is moved aside to `<file>.unreadable-<time>` and the sandbox starts from its seeds).
   */
  load(): "loaded" | "fresh" | "unreadable" {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    let raw: string;
    try {
      raw = fs.readFileSync(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return "fresh";
      throw e;
    }
    try {
      const snap = JSON.parse(raw) as SandboxSnapshot;
      if (snap.version !== VERSION) throw new Error(`state file version ${String(snap.version)}, expected ${VERSION}`);
      restoreSandbox(this.sb, snap);
      return "loaded";
    } catch (e) {
      const aside = `${this.file}.unreadable-${Date.now()}`;
      fs.renameSync(this.file, aside);
      console.error(`sandbox: cannot load ${this.file} (${e instanceof Error ? e.message : String(e)}); moved it to ${aside} and starting from the seed state`);
      return "unreadable";
    }
  }

  /** Something changed: save soon (changes until then are coalesced into one write). */
  schedule(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer) return;
    const delay = Math.min(MAX_SAVE_DELAY_MS, Math.max(SAVE_DELAY_MS, this.lastSaveMs * 4));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  /** Writes the state now if it changed (temp file + rename: a reader or a crash never sees half a file). */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const started = Date.now();
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(snapshotSandbox(this.sb)));
      fs.renameSync(tmp, this.file);
    } catch (e) {
      this.dirty = true;
      console.error(`sandbox: cannot save ${this.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.lastSaveMs = Date.now() - started;
  }

  /** Final save (close, SIGTERM/SIGINT); no saves afterwards. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
    this.closed = true;
  }
}
