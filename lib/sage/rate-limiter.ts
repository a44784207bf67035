/**
 * A sliding-window limiter per key (one per Sage business connection), so a sync never runs into
 * a storm of 429s: at most `limit` calls start in any `periodMs` window. In-process; with an
 * Inngest server the function's `throttle` does the same across processes.
 */
export class SlidingWindowLimiter {
  /** per key: call start times in order; the ones before `head` have left the window */
  private readonly windows = new Map<string, { starts: number[]; head: number }>();
  private readonly queues = new Map<string, Promise<void>>();

  /**
   * Sage counts a call when it processes it, a little after we admit it; when call k was counted
   * later than call k+limit would be, k+limit lands inside Sage's window and gets a 429. So a slot is
   * reused only `marginMs` after the window has passed (default 2 % of the period, at least 50 ms).
   */
  private readonly marginMs: number;

  constructor(private readonly limit: number, private readonly periodMs: number, private readonly now: () => number = Date.now, marginMs?: number) {
    this.marginMs = marginMs ?? Math.max(50, Math.round(periodMs * 0.02));
  }

  /** Resolves when a call may start. Calls for one key are admitted in order. */
  acquire(key: string): Promise<void> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.waitForSlot(key));
    this.queues.set(key, next.catch(() => {}));
    return next;
  }

  private async waitForSlot(key: string): Promise<void> {
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = { starts: [], head: 0 }));
    const span = this.periodMs + this.marginMs;
    for (;;) {
      const t = this.now();
      // starts are in order: drop the ones that left the window from the front (amortized O(1) per call)
      while (w.head < w.starts.length && t - w.starts[w.head]! >= span) w.head++;
      if (w.head > 1024 && w.head * 2 > w.starts.length) {
        w.starts = w.starts.slice(w.head);
        w.head = 0;
      }
      if (w.starts.length - w.head < this.limit) {
        w.starts.push(t);
        return;
      }
      const wait = w.starts[w.head]! + span - t + 1;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

const limiters = new Map<string, SlidingWindowLimiter>();

/** The process-wide limiter for a target's published limit. */
export function limiterFor(limit: number, periodSeconds: number): SlidingWindowLimiter {
  const id = `${limit}/${periodSeconds}`;
  let l = limiters.get(id);
  if (!l) {
    l = new SlidingWindowLimiter(limit, periodSeconds * 1000);
    limiters.set(id, l);
  }
  return l;
}
