// Outgoing webhooks (Standard Webhooks v1) from the marketplace to the plugin installation:
// signed with `standardwebhooks`, delivered in the background, retried with exponential backoff,
// 429 Retry-After honoured, 410 Gone disables the endpoint. Every attempt is recorded.
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { MarketplaceWorld } from "./world";

export interface WebhookConfig {
  /** Send webhooks at all (false: events are recorded as skipped). */
  enabled: boolean;
  /** First retry delay; attempt n waits baseDelayMs · 2^(n-1). */
  baseDelayMs: number;
  /** Cap of one retry delay (also caps Retry-After). */
  maxDelayMs: number;
  /** Attempts in total (first try included). */
  maxAttempts: number;
  /** A 2xx within this time is success. */
  timeoutMs: number;
  /** Deliveries in flight at once (all installations). */
  concurrency: number;
}

export function defaultWebhookConfig(): WebhookConfig {
  return { enabled: true, baseDelayMs: 1000, maxDelayMs: 3_600_000, maxAttempts: 8, timeoutMs: 15_000, concurrency: 16 };
}

export const EVENT_TYPES = ["order.created", "order.updated", "customer.created", "customer.updated", "product.created", "product.updated", "installation.uninstalled"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OutgoingEvent {
  id: string;
  type: EventType;
  accountId: string;
  installationId: string;
  /** The exact JSON body (signed as is). */
  payload: string;
  createdMs: number;
}

export type DeliveryOutcome = "delivered" | "retry" | "failed" | "gone" | "skipped";

export interface DeliveryRecord {
  seq: number;
  event_id: string;
  type: EventType;
  account_id: string;
  installation_id: string;
  url: string | null;
  attempt: number;
  /** Sandbox clock. */
  at: string;
  /** webhook-timestamp header sent (unix seconds, real time). */
  timestamp: number | null;
  status: number | null;
  outcome: DeliveryOutcome;
  error: string | null;
  duration_ms: number | null;
  /** Delay before the next attempt (outcome "retry"). */
  retry_in_ms: number | null;
  signatures: number;
}

interface Job {
  event: OutgoingEvent;
  attempts: number;
}

/** "msg_" + 26 base32 chars: unique per event, the same on every retry. */
export function newEventId(): string {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  const bytes = randomBytes(26);
  let s = "msg_";
  for (const b of bytes) s += alphabet[b % 32];
  return s;
}

function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

const MAX_RECORDS = 100_000;

export class WebhookDispatcher {
  private readonly queue: Job[] = [];
  private head = 0;
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private stopped = false;
  private seq = 0;
  private records: DeliveryRecord[] = [];
  private waiting = 0;

  constructor(
    private readonly world: () => MarketplaceWorld,
    private readonly config: () => WebhookConfig,
    private readonly now: () => number,
    /** Called when a delivery changes persistent state (410 Gone disables the endpoint). */
    private readonly onStateChange: () => void = () => {},
  ) {}

  /** Queues an event for the account's installation (no installation: nothing to send, returns null). */
  emit(accountId: string, type: EventType, data: Record<string, unknown>): OutgoingEvent | null {
    const inst = this.world().accounts.get(accountId)?.installation;
    if (!inst || this.stopped) return null;
    // an uninstalled plugin hears nothing more (the uninstall event itself is the last one)
    if (inst.uninstalledMs && type !== "installation.uninstalled") return null;
    const createdMs = this.now();
    const event: OutgoingEvent = {
      id: newEventId(),
      type,
      accountId,
      installationId: inst.id,
      payload: JSON.stringify({ type, timestamp: new Date(createdMs).toISOString(), data: { installation_id: inst.id, account_id: accountId, ...data } }),
      createdMs,
    };
    if (!this.config().enabled) {
      this.record(event, { url: inst.webhookUrl, attempt: 0, timestamp: null, status: null, outcome: "skipped", error: "webhooks disabled in /__sandbox/config", duration_ms: null, retry_in_ms: null, signatures: 0 });
      return event;
    }
    this.queue.push({ event, attempts: 0 });
    this.pump();
    return event;
  }

  deliveries(filter?: (r: DeliveryRecord) => boolean): DeliveryRecord[] {
    return filter ? this.records.filter(filter) : this.records.slice();
  }

  clearDeliveries(): void {
    this.records = [];
  }

  stats(): { queued: number; in_flight: number; waiting_retry: number; recorded: number } {
    return { queued: this.queue.length - this.head, in_flight: this.inFlight, waiting_retry: this.waiting, recorded: this.records.length };
  }

  /** Stops all deliveries (reset / close): pending retries are dropped, requests in flight aborted. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
    this.queue.length = 0;
    this.head = 0;
  }

  private record(event: OutgoingEvent, r: Omit<DeliveryRecord, "seq" | "event_id" | "type" | "account_id" | "installation_id" | "at">): void {
    this.seq += 1;
    this.records.push({
      seq: this.seq,
      event_id: event.id,
      type: event.type,
      account_id: event.accountId,
      installation_id: event.installationId,
      at: new Date(this.now()).toISOString(),
      ...r,
    });
    if (this.records.length > MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < Math.max(1, this.config().concurrency) && this.head < this.queue.length) {
      const job = this.queue[this.head] as Job;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight += 1;
      void this.attempt(job).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private schedule(job: Job, delayMs: number): void {
    this.waiting += 1;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.waiting -= 1;
      if (this.stopped) return;
      this.queue.push(job);
      this.pump();
    }, delayMs);
    this.timers.add(t);
  }

  private async attempt(job: Job): Promise<void> {
    const { event } = job;
    const inst = this.world().accounts.get(event.accountId)?.installation;
    if (!inst || inst.id !== event.installationId) {
      this.record(event, { url: null, attempt: job.attempts, timestamp: null, status: null, outcome: "skipped", error: "installation no longer exists", duration_ms: null, retry_in_ms: null, signatures: 0 });
      return;
    }
    if (inst.disabled) {
      this.record(event, { url: inst.webhookUrl, attempt: job.attempts, timestamp: null, status: null, outcome: "skipped", error: "endpoint disabled after 410 Gone", duration_ms: null, retry_in_ms: null, signatures: 0 });
      return;
    }
    job.attempts += 1;
    const cfg = this.config();
    const url = inst.webhookUrl;
    // webhook-timestamp is the attempt time on the real clock (receivers check it against theirs).
    const sentAt = new Date();
    const signature = inst.secrets.map((s) => new Webhook(s).sign(event.id, sentAt, event.payload)).join(" ");
    const ctrl = new AbortController();
    this.controllers.add(ctrl);
    const timer = setTimeout(() => ctrl.abort(new Error(`no answer within ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let retryAfter: number | null = null;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "demo-marketplace-webhooks/1.0",
          "webhook-id": event.id,
          "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: event.payload,
        redirect: "manual",
        signal: ctrl.signal,
      });
      status = res.status;
      retryAfter = retryAfterMs(res.headers.get("retry-after"), Date.now());
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      error = ctrl.signal.aborted ? String((ctrl.signal.reason as Error | undefined)?.message ?? "aborted") : cause;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(ctrl);
    }
    if (this.stopped) return;
    const base = { url, attempt: job.attempts, timestamp: Math.floor(sentAt.getTime() / 1000), status, error, duration_ms: Date.now() - started, signatures: inst.secrets.length };
    if (status !== null && status >= 200 && status < 300) {
      this.record(event, { ...base, outcome: "delivered", retry_in_ms: null });
      return;
    }
    if (status === 410) {
      inst.disabled = true;
      this.onStateChange();
      this.record(event, { ...base, outcome: "gone", error: "410 Gone: endpoint disabled", retry_in_ms: null });
      return;
    }
    if (job.attempts >= cfg.maxAttempts) {
      this.record(event, { ...base, outcome: "failed", retry_in_ms: null });
      return;
    }
    const backoff = cfg.baseDelayMs * 2 ** (job.attempts - 1);
    const delay = Math.min(status === 429 && retryAfter !== null ? retryAfter : backoff, cfg.maxDelayMs);
    this.record(event, { ...base, outcome: "retry", retry_in_ms: delay });
    this.schedule(job, delay);
  }
}
