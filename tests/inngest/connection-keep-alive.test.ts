import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import { setDatabaseHandleForTests } from "@/db/client";
import { keepConnectionAlive, listConnectionsDueForKeepAlive } from "@/lib/connections/keep-alive";
import { connectionKeepAlive, KEEP_ALIVE_CRON, KEEP_ALIVE_MAX_AGE_DAYS } from "@/inngest/functions/connection-keep-alive";
import { functions } from "@/inngest/functions";
import { CRON_EVENT_NAME } from "@/inngest/inline-runner";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { sleep, testRunner } from "./helpers";

// The domain functions are lib/connections' (tested there); here: the orchestration around them.
vi.mock("@/lib/connections/keep-alive", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/connections/keep-alive")>();
  return { ...actual, listConnectionsDueForKeepAlive: vi.fn(actual.listConnectionsDueForKeepAlive), keepConnectionAlive: vi.fn(actual.keepConnectionAlive) };
});

const list = vi.mocked(listConnectionsDueForKeepAlive);
const keepAlive = vi.mocked(keepConnectionAlive);

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
  setDatabaseHandleForTests(db);
});
afterAll(async () => {
  setDatabaseHandleForTests(undefined);
  await db.drop();
});
beforeEach(() => {
  list.mockReset();
  keepAlive.mockReset();
});

const cronEvent = (ts: number) => ({ name: CRON_EVENT_NAME, data: { cron: KEEP_ALIVE_CRON }, ts, id: "tick" });

describe("connection-keep-alive (InngestTestEngine)", () => {
  // a fresh engine per test: an engine keeps step state between executions
  let t: InngestTestEngine;
  beforeEach(() => {
    t = new InngestTestEngine({ function: connectionKeepAlive });
  });

  it("is registered as a daily cron with one run at a time", () => {
    expect(functions).toContain(connectionKeepAlive);
    expect(connectionKeepAlive.opts.triggers).toEqual([{ cron: KEEP_ALIVE_CRON }]);
    expect(connectionKeepAlive.opts.concurrency).toEqual({ limit: 1 });
  });

  it("refreshes each due connection in its own step and reports the outcome", async () => {
    const tick = Date.parse("2026-03-01T03:00:00Z");
    list.mockResolvedValue([
      { id: "c1", tenantId: "t1" },
      { id: "c2", tenantId: "t1" },
      { id: "c3", tenantId: "t2" },
    ]);
    keepAlive.mockImplementation(async (_db, id) =>
      id === "c2" ? { refreshed: false, status: "reconnect_required" } : { refreshed: true, status: "connected" },
    );
    const { result, ctx } = await t.execute({ events: [cronEvent(tick)] });

    expect(result).toEqual({ checked: 3, refreshed: 2, reconnectRequired: 1, failed: [] });
    expect(list).toHaveBeenCalledTimes(1);
    expect(list.mock.calls[0]?.[1]).toEqual(new Date(tick));
    expect(list.mock.calls[0]?.[2]).toBe(KEEP_ALIVE_MAX_AGE_DAYS);
    expect(keepAlive.mock.calls.map((c) => c[1])).toEqual(["c1", "c2", "c3"]);
    expect(ctx.step.run).toHaveBeenCalledWith("list-connections-due", expect.any(Function));
    for (const id of ["c1", "c2", "c3"]) expect(ctx.step.run).toHaveBeenCalledWith(`keep-alive-${id}`, expect.any(Function));
  });

  it("does nothing when no connection is due", async () => {
    list.mockResolvedValue([]);
    const { result } = await t.execute({ events: [cronEvent(Date.now())] });
    expect(result).toEqual({ checked: 0, refreshed: 0, reconnectRequired: 0, failed: [] });
    expect(keepAlive).not.toHaveBeenCalled();
  });
});

describe("connection-keep-alive (inline runner)", () => {
  it("fires at 03:00 UTC and runs against the real database", async () => {
    const actual = await vi.importActual<typeof import("@/lib/connections/keep-alive")>("@/lib/connections/keep-alive");
    list.mockImplementation(actual.listConnectionsDueForKeepAlive);
    let now = new Date("2026-03-01T02:59:30Z");
    const { runner } = testRunner(db, [connectionKeepAlive], { now: () => now });
    runner.start();
    try {
      await runner.drain(); // first start: records the mark
      now = new Date("2026-03-01T03:00:02Z");
      await runner.drain();
      const runs = await runner.listRuns({ functionId: "connection-keep-alive" });
      expect(runs).toHaveLength(1);
      expect(runs[0]?.event).toMatchObject({ name: CRON_EVENT_NAME, data: { cron: KEEP_ALIVE_CRON }, ts: Date.parse("2026-03-01T03:00:00Z") });
      expect(runs[0]?.status).toBe("completed");
      expect(runs[0]?.output).toEqual({ checked: 0, refreshed: 0, reconnectRequired: 0, failed: [] }); // empty database
      expect(list).toHaveBeenCalledTimes(1);
    } finally {
      await runner.stop();
    }
  });

  // (InngestTestEngine does not model retries or StepError, so this one runs on the inline runner.)
  it("retries a failing connection, then goes on with the others", async () => {
    list.mockResolvedValue([
      { id: "c1", tenantId: "t1" },
      { id: "c2", tenantId: "t1" },
    ]);
    keepAlive.mockImplementation(async (_db, id) => {
      if (id === "c1") throw new Error("Sage is down");
      return { refreshed: true, status: "connected" };
    });
    // a clock running from 02:59:59.7 UTC
    const offset = Date.parse("2026-03-02T02:59:59.700Z") - Date.now();
    const { runner } = testRunner(db, [connectionKeepAlive], { now: () => new Date(Date.now() + offset), retryBaseDelayMs: 1 });
    runner.start();
    try {
      await runner.drain(); // records the mark before 03:00
      await sleep(400);
      await runner.drain({ includeScheduled: true }); // the 03:00 run, through its retries
      const runs = await runner.listRuns({ functionId: "connection-keep-alive" });
      const run = runs.find((r) => (r.event as { ts: number }).ts === Date.parse("2026-03-02T03:00:00Z"));
      expect(run?.status).toBe("completed");
      expect(run?.output).toEqual({ checked: 2, refreshed: 1, reconnectRequired: 0, failed: ["c1"] });
      expect(keepAlive.mock.calls.filter((c) => c[1] === "c1")).toHaveLength(4); // retries: 3
      expect(keepAlive.mock.calls.filter((c) => c[1] === "c2")).toHaveLength(1);
    } finally {
      await runner.stop();
    }
  });
});
