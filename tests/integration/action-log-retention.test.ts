import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asc, eq, isNull } from "drizzle-orm";
import { actionLog, inlineCronMarks, tenantSettings, tenants } from "@/db/schema";
import { setDatabaseHandleForTests } from "@/db/client";
import { resetConfigForTests } from "@/lib/config";
import { DEFAULT_SETTINGS } from "@/lib/settings/settings";
import { listActionLogPurgesDue, purgeActionLogSlice } from "@/lib/log/retention";
import { InlineRunner } from "@/inngest/inline-runner";
import { actionLogRetentionDaily, actionLogRetentionPurge } from "@/inngest/functions/action-log-retention";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

const DAY = 24 * 60 * 60 * 1000;

/**
 * Retention: only rows past their tenant's retention are deleted (ACTION_LOG_RETENTION_DAYS, or the
 * tenant's own setting), in bounded slices, with one summary row per tenant purged.
 */
describe("Action Log retention", () => {
  let t: TestDatabase;
  const before = process.env.ACTION_LOG_RETENTION_DAYS;

  beforeAll(async () => {
    process.env.ACTION_LOG_RETENTION_DAYS = "30";
    resetConfigForTests();
    t = await openTestDatabase();
    setDatabaseHandleForTests(t);
  });
  afterAll(async () => {
    if (before === undefined) delete process.env.ACTION_LOG_RETENTION_DAYS;
    else process.env.ACTION_LOG_RETENTION_DAYS = before;
    resetConfigForTests();
    setDatabaseHandleForTests(undefined);
    await t?.drop();
  });

  const tenant = async (account: string, retentionDays?: number) => {
    const [row] = await t.db.insert(tenants).values({ marketplaceAccountId: account, name: account }).returning();
    if (retentionDays !== undefined) await t.db.insert(tenantSettings).values({ tenantId: row!.id, ...DEFAULT_SETTINGS, actionLogRetentionDays: retentionDays });
    return row!.id;
  };
  const row = (tenantId: string | null, at: Date, message: string) =>
    t.db
      .insert(actionLog)
      .values({ tenantId, at, actorType: "system", actorLabel: "Sage Connector", level: "info", category: "sync", message })
      .returning({ id: actionLog.id })
      .then((r) => r[0]!.id);
  const rowsOf = (tenantId: string | null) =>
    t.db
      .select({ id: actionLog.id, message: actionLog.message, details: actionLog.details, actorLabel: actionLog.actorLabel })
      .from(actionLog)
      .where(tenantId ? eq(actionLog.tenantId, tenantId) : isNull(actionLog.tenantId))
      .orderBy(asc(actionLog.id));

  it("a purge deletes in bounded slices, oldest first, only rows before the cut-off, and writes one summary row at the end", async () => {
    const id = await tenant("RES-RET-SLICE");
    const cutoff = new Date("2026-06-01T00:00:00Z");
    const old = [];
    for (let i = 0; i < 7; i++) old.push(await row(id, new Date(cutoff.getTime() - (i + 1) * 60_000), `old ${i}`));
    const atCutoff = await row(id, cutoff, "exactly at the cut-off");
    const young = await row(id, new Date(cutoff.getTime() + 1), "young");

    const slices = [];
    let deletedBefore = 0;
    for (let i = 0; i < 10; i++) {
      const s = await purgeActionLogSlice(t.db, { tenantId: id, before: cutoff.toISOString(), retentionDays: 30, limit: 3, deletedBefore });
      slices.push(s);
      deletedBefore = s.total;
      if (s.done) break;
      // no summary row until the purge is done
      expect((await rowsOf(id)).filter((r) => r.message.startsWith("Action Log retention"))).toHaveLength(0);
    }
    expect(slices.map((s) => [s.deleted, s.done])).toEqual([
      [3, false],
      [3, false],
      [1, true],
    ]);
    const left = await rowsOf(id);
    expect(left.map((r) => r.id).slice(0, 2)).toEqual([atCutoff, young]);
    expect(left).toHaveLength(3);
    expect(left[2]).toMatchObject({ message: "Action Log retention: 7 entries older than 30 days (before 2026-06-01) deleted.", actorLabel: "Action Log retention", details: { deleted: 7, retentionDays: 30 } });
    // nothing more to delete: no second summary
    expect(await purgeActionLogSlice(t.db, { tenantId: id, before: cutoff.toISOString(), retentionDays: 30, limit: 3 })).toEqual({ deleted: 0, done: true, total: 0 });
    expect(await rowsOf(id)).toHaveLength(3);
  });

  it("the daily flow purges each tenant by its own retention (setting, else ACTION_LOG_RETENTION_DAYS), rows of no tenant too; exact rows remain", async () => {
    await t.db.delete(actionLog);
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY);
    const byDefault = await tenant("RES-RET-DEFAULT");
    const shortRetention = await tenant("RES-RET-SHORT", 7);
    const longRetention = await tenant("RES-RET-LONG", 400);
    const untouched = await tenant("RES-RET-YOUNG");

    // the daily tick may be up to a day before now: margins of two days either side of each retention
    const d = { gone: [await row(byDefault, ago(32), "d 32"), await row(byDefault, ago(300), "d 300")], kept: [await row(byDefault, ago(28), "d 28"), await row(byDefault, ago(0), "d 0")] };
    const s = { gone: [await row(shortRetention, ago(9), "s 9"), await row(shortRetention, ago(31), "s 31")], kept: [await row(shortRetention, ago(5), "s 5")] };
    const l = { gone: [await row(longRetention, ago(402), "l 402")], kept: [await row(longRetention, ago(398), "l 398"), await row(longRetention, ago(32), "l 32")] };
    const y = { kept: [await row(untouched, ago(28), "y 28")] };
    const n = { gone: [await row(null, ago(35), "n 35")], kept: [await row(null, ago(25), "n 25")] };

    const due = await listActionLogPurgesDue(t.db, { now: new Date(now), defaultRetentionDays: 30, limit: 100, includeSystem: true });
    expect(due.map((x) => [x.tenantId, x.retentionDays])).toEqual([[null, 30], ...[[byDefault, 30], [shortRetention, 7], [longRetention, 400]].sort((p, q) => (String(p[0]) < String(q[0]) ? -1 : 1))]);

    // the cron fires its latest tick (marked as last fired two days ago)
    await t.db.insert(inlineCronMarks).values({ functionId: "action-log-retention-daily", lastFiredAt: ago(2) });
    const runner = new InlineRunner({ db: t.db, functions: [actionLogRetentionDaily, actionLogRetentionPurge], pollIntervalMs: 20, leaseMs: 2_000, retryBaseDelayMs: 50, logger: false });
    runner.start();
    try {
      await runner.drain({ timeoutMs: 30_000 });
    } finally {
      await runner.stop();
    }
    const daily = await runner.listRuns({ functionId: "action-log-retention-daily" });
    expect(daily.map((r) => [r.status, r.output])).toEqual([["completed", { dispatched: 4 }]]);
    const purges = await runner.listRuns({ functionId: "action-log-retention-purge" });
    expect(purges.map((r) => r.status)).toEqual(["completed", "completed", "completed", "completed"]);

    const summary = (count: number, days: number) => new RegExp(`^Action Log retention: ${count} (entry|entries) older than ${days} days \\(before \\d{4}-\\d{2}-\\d{2}\\) deleted\\.$`);
    const check = async (tenantId: string | null, kept: number[], count: number, days: number) => {
      const left = await rowsOf(tenantId);
      expect(left.slice(0, kept.length).map((r) => r.id)).toEqual(kept);
      if (count === 0) return expect(left).toHaveLength(kept.length);
      expect(left).toHaveLength(kept.length + 1);
      expect(left.at(-1)!.message).toMatch(summary(count, days));
      expect(left.at(-1)!.details).toMatchObject({ deleted: count, retentionDays: days });
    };
    await check(byDefault, d.kept, d.gone.length, 30);
    await check(shortRetention, s.kept, s.gone.length, 7);
    await check(longRetention, l.kept, l.gone.length, 400);
    await check(untouched, y.kept, 0, 30);
    await check(null, n.kept, n.gone.length, 30);
    // every row that went was past its age, every row past its age went
    const all = new Set((await t.db.select({ id: actionLog.id }).from(actionLog)).map((r) => r.id));
    for (const id of [...d.gone, ...s.gone, ...l.gone, ...n.gone]) expect(all.has(id)).toBe(false);
  });
});
