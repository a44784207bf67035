import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { sageRateBudgets } from "@/db/schema";
import { RateBudget, defaultMarginMs } from "@/lib/connections/rate-budget";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

/**
 * The shared rate budget on the real database (PGlite, or PostgreSQL with DATABASE_URL): admitted
 * call starts are checked exactly — never more than `limit` in any window of period + margin.
 * Two RateBudget objects on one key stand for two processes (no local state shared between them).
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** the largest number of timestamps inside any half-open window [t, t + span) */
function maxInWindow(times: number[], span: number) {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= span) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("RateBudget (database sliding window)", () => {
  it("N concurrent acquirers on one key, from several independent budgets, never exceed the limit in a window", async () => {
    const limit = 5;
    const periodMs = 400;
    const margin = defaultMarginMs(periodMs);
    const key = `test:one-key:${Date.now()}`;
    const opts = { limit, periodMs };
    // three "processes", each its own local queue and leases; 18 concurrent callers each
    const budgets = [new RateBudget(db.db, key, opts), new RateBudget(db.db, key, opts), new RateBudget(db.db, key, opts)];
    const admittedAt: number[] = [];
    const started = Date.now();
    await Promise.all(
      budgets.flatMap((b) =>
        Array.from({ length: 6 }, async () => {
          await b.acquire();
          admittedAt.push(Date.now());
        }),
      ),
    );
    const elapsed = Date.now() - started;
    expect(admittedAt).toHaveLength(18);
    // the recorded starts of the last window are in the row, and the local admission times obey the bound
    expect(maxInWindow(admittedAt, periodMs)).toBeLessThanOrEqual(limit);
    // 18 calls at 5 per window starting empty: at least 3 full windows passed
    expect(elapsed).toBeGreaterThanOrEqual(3 * periodMs);
    const [row] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(row!.limit).toBe(limit);
    expect(row!.periodMs).toBe(periodMs);
    expect(row!.starts.length).toBeLessThanOrEqual(limit);
    expect(margin).toBe(50);
  });

  it("the row's recorded starts never hold more than limit inside period + margin (checked after every admission)", async () => {
    const limit = 4;
    const periodMs = 300;
    const span = periodMs + defaultMarginMs(periodMs);
    const key = `test:recorded:${Date.now()}`;
    const a = new RateBudget(db.db, key, { limit, periodMs });
    const b = new RateBudget(db.db, key, { limit, periodMs });
    const recorded = new Set<number>();
    const snapshot = async () => {
      const [row] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
      for (const s of row!.starts) recorded.add(s);
    };
    await Promise.all(
      [a, b].flatMap((budget) =>
        Array.from({ length: 7 }, async () => {
          await budget.acquire();
          await snapshot();
        }),
      ),
    );
    // every admission is in the union of snapshots (no entry is dropped before it left the window);
    // groups are recorded with equal timestamps, so count with multiplicity from the last snapshot per value
    const all: number[] = [];
    const [row] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(row!.starts.length).toBeGreaterThan(0);
    for (const s of recorded) all.push(s);
    expect(maxInWindow(all, span)).toBeLessThanOrEqual(limit);
  });

  it("different keys are independent: a full key does not slow another", async () => {
    const periodMs = 5_000;
    const full = new RateBudget(db.db, `test:full:${Date.now()}`, { limit: 2, periodMs });
    const other = new RateBudget(db.db, `test:other:${Date.now()}`, { limit: 2, periodMs });
    await full.acquire();
    await full.acquire();
    let thirdDone = false;
    const third = full.acquire().then(() => (thirdDone = true));
    const t0 = Date.now();
    await other.acquire();
    await other.acquire();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(thirdDone).toBe(false); // the full key is still waiting for its window
    void third;
  });

  it("leases: with plenty of room one statement admits a group of calls, still within the bound", async () => {
    const key = `test:lease:${Date.now()}`;
    const budget = new RateBudget(db.db, key, { limit: 1_000, periodMs: 1_000 });
    for (let i = 0; i < 64; i++) await budget.acquire();
    expect(budget.statements).toBeLessThanOrEqual(8);
    const [row] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(row!.starts.length).toBeGreaterThanOrEqual(64);
  });

  it("a lease's unused slots are handed back when it expires: another process gets them in the same window", async () => {
    const key = `test:release:${Date.now()}`;
    const limit = 100;
    const opts = { limit, periodMs: 60_000, leaseMs: 100 };
    const a = new RateBudget(db.db, key, opts);
    await a.acquire(); // leases a group (25 of 100 free: at most a quarter of the room), uses one
    const [leased] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(leased!.starts).toHaveLength(25);
    await new Promise((r) => setTimeout(r, 400));
    expect(a.released).toBe(24);
    const [after] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(after!.starts).toHaveLength(1);
    // the other 99 slots of this 60 s window are all usable by a second process, at once
    const b = new RateBudget(db.db, key, { ...opts, maxGroup: 1 });
    const t0 = Date.now();
    for (let i = 0; i < limit - 1; i++) await b.acquire();
    expect(Date.now() - t0).toBeLessThan(10_000);
    const [full] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(full!.starts).toHaveLength(limit);
  });

  it("a one-at-a-time caller leases no more than it uses: after the first lease, at most one slot is wasted per lease", async () => {
    const key = `test:sized:${Date.now()}`;
    const budget = new RateBudget(db.db, key, { limit: 1_000, periodMs: 60_000, leaseMs: 50 });
    for (let i = 0; i < 10; i++) {
      await budget.acquire();
      await new Promise((r) => setTimeout(r, 80)); // a call longer than the lease: one call per lease
    }
    await new Promise((r) => setTimeout(r, 200));
    const [row] = await db.db.select().from(sageRateBudgets).where(eq(sageRateBudgets.key, key));
    expect(row!.starts).toHaveLength(10); // every unused slot handed back
    expect(budget.released).toBe(63 + 9); // first lease 64 (1 used), then leases of 2 (1 used each)
  });
});
