// Calls from the simulated Sage 50 Cloud platform to an application: the approval call (awaited, so
// the desktop page can show its outcome) and file notifications (in the background, retried with
// backoff; an application that is down is logged and skipped, never fatal). Signed with Standard
// Webhooks, key "whsec_" + base64(UTF-8 bytes of the application secret), unless signCalls is off.
import { Webhook } from "standardwebhooks";
import { newEventId } from "../marketplace/webhooks";
import type { Application, CallRecord, Sage50World } from "./state";

export const CALL_TIMEOUT_MS = 5000;
/** Waits before the 2nd, 3rd and 4th notification attempt. */
export const NOTIFICATION_RETRY_DELAYS_MS = [500, 1500, 4500];

export function signingKey(secret: string): string {
  return `whsec_${Buffer.from(secret, "utf8").toString("base64")}`;
}

export interface CallOutcome {
  status: number | null;
  error: string | null;
}

export class AppCaller {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly world: () => Sage50World) {}

  /** POSTs the approval URL once and waits for the answer (or the timeout). */
  approval(app: Application, payload: Record<string, unknown>): Promise<CallOutcome> {
    if (!app.approvalUrl) return Promise.resolve({ status: null, error: "the application has no approvalUrl" });
    return this.post("approval", app, app.approvalUrl, JSON.stringify(payload), newEventId(), 1);
  }

  /** Queues a notification (same webhook-id on every attempt). */
  notify(app: Application, payload: Record<string, unknown>): void {
    if (!app.notificationUrl || this.stopped) return;
    const url = app.notificationUrl;
    const body = JSON.stringify(payload);
    const id = newEventId();
    const attempt = (n: number): void => {
      void this.post("notification", app, url, body, id, n).then((r) => {
        if (this.stopped || (r.status !== null && r.status >= 200 && r.status < 300)) return;
        const delay = NOTIFICATION_RETRY_DELAYS_MS[n - 1];
        if (delay === undefined) {
          console.warn(`sandbox sage50: notification to ${url} failed after ${n} attempts (${r.error ?? `HTTP ${r.status}`}); giving up`);
          return;
        }
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.stopped) attempt(n + 1);
        }, delay);
        this.timers.add(t);
      });
    };
    attempt(1);
  }

  /** Drops pending retries and aborts calls in flight (reset / close). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }

  private async post(kind: CallRecord["kind"], app: Application, url: string, body: string, id: string, attempt: number): Promise<CallOutcome> {
    const signed = this.world().config.signCalls;
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "sage50-cloud-sandbox/1.0" };
    if (signed) {
      const sentAt = new Date();
      headers["webhook-id"] = id;
      headers["webhook-timestamp"] = String(Math.floor(sentAt.getTime() / 1000));
      headers["webhook-signature"] = new Webhook(signingKey(app.secret)).sign(id, sentAt, body);
    }
    const ctrl = new AbortController();
    this.controllers.add(ctrl);
    const timer = setTimeout(() => ctrl.abort(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    let outcome: CallOutcome;
    try {
      const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: ctrl.signal });
      await res.arrayBuffer().catch(() => undefined);
      outcome = { status: res.status, error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}` };
    } catch (e) {
      const reason = ctrl.signal.aborted ? (ctrl.signal.reason as Error | undefined)?.message : undefined;
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      outcome = { status: null, error: reason ?? cause };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(ctrl);
    }
    if (!this.stopped) this.world().recordCall({ kind, applicationId: app.id, url, attempt, status: outcome.status, error: outcome.error, signed });
    return outcome;
  }
}
