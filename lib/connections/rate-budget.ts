import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections, sageRateBudgets } from "@/db/schema";
import { getConfig } from "@/lib/config";

/**
 * One pace per Sage business, shared by every process: a sliding-window rate budget kept in the
 * database (`sage_rate_budgets`, one row per key), drawn from atomically by every worker of every
 * app instance. PostgreSQL in production (several hosts agree because the database clock decides),
 * PGlite when embedded.
 *
 * The row holds, for every call admitted and possibly still inside the window, an upper bound of the
 * moment it starts (epoch ms, database clock), sorted. A call is admitted only inside ONE statement
 * that locks the row, reads the database clock after the lock, drops the entries that left the window
 * and appends the new ones when fewer than `limit` remain. So at most `limit` call starts fall in any
 * window of `periodMs + marginMs`, whichever process sends them:
 *   take the calls starting in some window and j, the one admitted last; when j was admitted (at t_j,
 *   before it starts) every other one was recorded with a start ≥ its real start > start_j − span ≥
 *   t_j − span, so they were all counted against j's admission.
 *
 * The margin: Sage counts a call when it processes it, a little after we admit it (the statement's
 * answer travels back, the request travels to Sage); when call k was counted later than call
 * k + limit would be, k + limit lands inside Sage's window and gets a 429. So a slot is reused only
 * `marginMs` after the window has passed (default 3 % of the period, at least 50 ms: 300 ms at 60 calls / 10 s.
 * 2 % let P7 — 20 businesses at once on a saturated 2-core machine — see 4 × 429, a call reaching
 * Sage more than 200 ms after its admission; 5 % cost P1 1.063 × its strict bound).
 *
 * Cheap when there is room: a statement may admit a small group of calls at once (a lease). Each is
 * recorded as starting at `now + leaseMs` (an upper bound: the process uses a leased slot only until
 * `leaseMs` after it SENT the statement — the statement ran after that, so the real start is earlier
 * than the recorded one and the argument above holds unchanged). Groups are granted only while at
 * most a quarter of the window's free room goes to one lease, so a busy budget degrades to one call
 * per statement. A lease is sized to what this process used of its last one (plus the callers
 * waiting now; twice that when the last one was used up before it expired), and the slots it did
 * not use are handed back when it expires (`release`: their entries are removed from the row — they
 * were never used and never will be, so the bound above is untouched). Nothing is wasted but the
 * slots of a process that died holding a lease.
 *
 * When the window is full the statement admits nothing and answers how long until the oldest
 * counted entry leaves it; the caller sleeps that long and asks again. Within one process, calls
 * for one key are admitted in order (a local queue in front of the database).
 */

export type RateBudgetOptions = {
  limit: number;
  periodMs: number;
  /** extra time a slot stays counted after its window (default 3 % of the period, ≥ 50 ms) */
  marginMs?: number;
  /** how long a leased slot may be used after the statement was sent (default min(100 ms, period ÷ 10)) */
  leaseMs?: number;
  /** most calls one statement admits (default 64, and never more than a quarter of the free room; 1 = no leases) */
  maxGroup?: number;
};

export type Admission = {
  /** calls admitted (0 when the window is full) */
  admitted: number;
  /** when nothing was admitted: ms until a slot frees (database clock) */
  waitMs: number;
  /** the database clock at admission, epoch ms */
  nowMs: number;
  /** the start recorded for each admitted call (epoch ms, database clock) */
  recordedStart?: number;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function defaultMarginMs(periodMs: number) {
  return Math.max(50, Math.round(periodMs * 0.03));
}

/** The budget key of one Sage business: two connections to the same business share one pace. */
export function sageBudgetKey(target: string, businessId: string) {
  return `${target}:${businessId}`;
}

function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? (result as T[])) as T[];
}

/**
 * One admission attempt: a single statement. Locks the key's row (`for update`), reads the database
 * clock after the lock, keeps the entries still inside `period + margin`, admits up to `want` calls
 * if there is room (see the module comment for the group rule) and records them.
 * The row must exist (ensureRow).
 */
export async function admit(db: Database, key: string, opts: RateBudgetOptions, want = 1): Promise<Admission | null> {
  const margin = opts.marginMs ?? defaultMarginMs(opts.periodMs);
  const span = opts.periodMs + margin;
  const lease = want > 1 ? (opts.leaseMs ?? Math.min(100, opts.periodMs / 10)) : 0;
  const limit = opts.limit;
  const result = await db.execute(sql`
    with cur as (
      select ${sageRateBudgets.key} as key, ${sageRateBudgets.starts} as starts from ${sageRateBudgets} where ${sageRateBudgets.key} = ${key} for update
    ), clock as (
      -- evaluated per row of cur, i.e. after the row lock was taken
      select cur.key, cur.starts, extract(epoch from clock_timestamp())::float8 * 1000 as t from cur
    ), kept as (
      select clock.key, clock.t, array(select x from unnest(clock.starts) as x where x > clock.t - ${span}::float8 order by x) as starts from clock
    ), room as (
      select kept.*, greatest(0, ${limit}::int - cardinality(kept.starts)) as free from kept
    ), decided as (
      select room.*, case when room.free = 0 then 0 else greatest(1, least(${want}::int, room.free / 4)) end as k from room
    ), written as (
      update ${sageRateBudgets} set
        starts = decided.starts || array_fill((decided.t + ${lease}::float8)::float8, array[decided.k]),
        "limit" = ${limit}::int,
        period_ms = ${opts.periodMs}::int,
        updated_at = now()
      from decided
      where ${sageRateBudgets.key} = decided.key and decided.k > 0
      returning 1
    )
    select decided.t as t, decided.k as k, (decided.t + ${lease}::float8)::float8 as recorded, decided.starts as starts, (select count(*) from written)::int as written from decided
  `);
  const row = rowsOf<{ t: number | string; k: number | string; recorded: number | string; starts: (number | string)[] | string }>(result)[0];
  if (!row) return null;
  const nowMs = Number(row.t);
  const k = Number(row.k);
  if (k > 0) return { admitted: k, waitMs: 0, nowMs, recordedStart: Number(row.recorded) };
  const starts = parseFloatArray(row.starts);
  // full: the (count − limit)-th oldest entry must leave the window first
  const oldest = starts[Math.max(0, starts.length - limit)] ?? nowMs;
  return { admitted: 0, waitMs: Math.max(1, Math.ceil(oldest + span - nowMs) + 1), nowMs };
}

function parseFloatArray(v: (number | string)[] | string): number[] {
  if (Array.isArray(v)) return v.map(Number);
  const inner = v.replace(/^\{|\}$/g, "");
  return inner ? inner.split(",").map(Number) : [];
}

/**
 * Hands back `count` slots of a lease that were never used: removes that many entries recorded at
 * `recordedStart` from the key's row (one statement, under the row lock). Safe at any time after
 * the process has stopped using them.
 */
export async function release(db: Database, key: string, recordedStart: number, count: number): Promise<number> {
  if (count <= 0) return 0;
  const result = await db.execute(sql`
    with cur as (
      select ${sageRateBudgets.key} as key, ${sageRateBudgets.starts} as starts from ${sageRateBudgets} where ${sageRateBudgets.key} = ${key} for update
    ), numbered as (
      select u.x, row_number() over (partition by (abs(u.x - ${recordedStart}::float8) < 0.001) order by u.ord) as rn
      from cur, unnest(cur.starts) with ordinality as u(x, ord)
    ), written as (
      update ${sageRateBudgets} set
        starts = array(select x from numbered where not (abs(x - ${recordedStart}::float8) < 0.001 and rn <= ${count}::int) order by x),
        updated_at = now()
      from cur
      where ${sageRateBudgets.key} = cur.key
      returning cardinality(cur.starts) - cardinality(${sageRateBudgets.starts}) as removed
    )
    select coalesce((select removed from written), 0)::int as removed
  `);
  return Number(rowsOf<{ removed: number | string }>(result)[0]?.removed ?? 0);
}

async function ensureRow(db: Database, key: string, opts: RateBudgetOptions) {
  await db.insert(sageRateBudgets).values({ key, limit: opts.limit, periodMs: opts.periodMs }).onConflictDoNothing();
}

/**
 * A key's budget as seen from this process: a local queue (calls admitted in order) and the slots of
 * the current lease, in front of the database row every process draws from.
 */
export class RateBudget {
  private queue: Promise<void> = Promise.resolve();
  private leased = 0;
  private leaseUntil = 0;
  private leaseRecordedStart = 0;
  private leaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** slots of the current lease used so far, and of the last one (sizes the next lease) */
  private usedThisLease = 0;
  private usedLastLease: number;
  private lastLeaseExhausted = false;
  private waiting = 0;
  private rowReady = false;
  /** statements sent (for tests and benchmarks) */
  statements = 0;
  /** leased slots handed back unused (for tests and benchmarks) */
  released = 0;

  constructor(
    private readonly db: Database,
    readonly key: string,
    readonly opts: RateBudgetOptions,
  ) {
    this.usedLastLease = opts.maxGroup ?? 64;
  }

  /** Resolves when one call may start. */
  acquire(): Promise<void> {
    this.waiting++;
    const next = this.queue.then(() => this.take()).finally(() => this.waiting--);
    this.queue = next.catch(() => {});
    return next;
  }

  private leaseMs() {
    return this.opts.leaseMs ?? Math.min(100, this.opts.periodMs / 10);
  }

  /** The lease ended (expired or superseded): hand back what was not used. */
  private endLease() {
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    const unused = this.leased;
    this.leased = 0;
    // every slot used before the lease ran out: demand is above the lease size, so the next one doubles
    this.lastLeaseExhausted = unused === 0 && this.usedThisLease > 1;
    this.usedLastLease = this.usedThisLease;
    this.usedThisLease = 0;
    if (unused > 0) {
      this.released += unused;
      this.statements++;
      release(this.db, this.key, this.leaseRecordedStart, unused).catch(() => {
        // the slots age out of the window on their own; nothing else depends on this
      });
    }
  }

  private async take(): Promise<void> {
    if (this.leased > 0 && performance.now() < this.leaseUntil) {
      this.leased--;
      this.usedThisLease++;
      return;
    }
    if (this.leased > 0 || this.usedThisLease > 0) this.endLease();
    const maxGroup = this.opts.maxGroup ?? 64;
    // what the last lease showed this process uses in one lease, and the callers waiting now
    const sized = this.lastLeaseExhausted ? this.usedLastLease * 2 : this.usedLastLease + 1;
    const want = Math.max(1, Math.min(maxGroup, Math.max(this.waiting, sized)));
    for (;;) {
      if (!this.rowReady) {
        await ensureRow(this.db, this.key, this.opts);
        this.rowReady = true;
      }
      const sentAt = performance.now();
      this.statements++;
      const a = await admit(this.db, this.key, this.opts, want);
      if (!a) {
        this.rowReady = false; // the row went away: create it again
        continue;
      }
      if (a.admitted > 0) {
        this.usedThisLease = 1;
        if (a.admitted > 1) {
          this.leased = a.admitted - 1;
          this.leaseUntil = sentAt + this.leaseMs();
          this.leaseRecordedStart = a.recordedStart ?? 0;
          const timer = setTimeout(() => {
            this.queue = this.queue.then(() => {
              // (a timer may fire a millisecond early: the lease simply ends then)
              if (this.leaseTimer === timer) this.endLease();
            });
          }, Math.max(0, this.leaseUntil - performance.now()) + 1);
          timer.unref?.();
          this.leaseTimer = timer;
        } else {
          this.usedLastLease = 1;
          this.usedThisLease = 0;
        }
        return;
      }
      await sleep(a.waitMs);
    }
  }
}

const budgets = new WeakMap<Database, Map<string, RateBudget>>();

/** The process-wide RateBudget of a key on a database (one local queue per key). */
export function rateBudget(db: Database, key: string, opts: RateBudgetOptions): RateBudget {
  let byKey = budgets.get(db);
  if (!byKey) budgets.set(db, (byKey = new Map()));
  const id = `${key}|${opts.limit}/${opts.periodMs}`;
  let b = byKey.get(id);
  if (!b) byKey.set(id, (b = new RateBudget(db, key, opts)));
  return b;
}

/**
 * `beforeAttempt` for a Sage client of one connection: waits for the budget of the connection's Sage
 * business (key `${target}:${businessId}`; the connection id while no business is picked yet), at
 * the target's published limit (SAGE_RATE_LIMIT).
 */
export function connectionBudget(db: Database, connectionId: string): () => Promise<void> {
  let budget: Promise<RateBudget> | undefined;
  const resolve = async () => {
    const [c] = await db.select({ target: connections.target, businessId: connections.businessId }).from(connections).where(eq(connections.id, connectionId));
    const { rateLimit } = getConfig().sage;
    const key = c?.businessId ? sageBudgetKey(c.target, c.businessId) : `connection:${connectionId}`;
    return rateBudget(db, key, { limit: rateLimit.limit, periodMs: rateLimit.periodSeconds * 1000 });
  };
  return async () => {
    budget ??= resolve();
    budget.catch(() => (budget = undefined));
    return (await budget).acquire();
  };
}
