import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import { eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog, connections } from "@/db/schema";
import { connectionKeepAlive, KEEP_ALIVE_CRON, KEEP_ALIVE_MAX_AGE_DAYS } from "@/inngest/functions/connection-keep-alive";
import { functions } from "@/inngest/functions";
import { CRON_EVENT_NAME } from "@/inngest/inline-runner";
import { startWorld, type World } from "../helpers/world";
import { testRunner } from "./helpers";

/**
 * The daily keep-alive, end to end: the real function and domain code, a real database and the Sage
 * sandbox over HTTP. A connection is "due" when its refresh token was issued more than
 * KEEP_ALIVE_MAX_AGE_DAYS ago; the sandbox's request log shows what was sent to Sage.
 */
const DAY_MS = 24 * 3600 * 1000;
const cronEvent = (ts: number) => ({ name: CRON_EVENT_NAME, data: { cron: KEEP_ALIVE_CRON }, ts, id: "tick" });

let world: World;
let connectionId: string;
beforeAll(async () => {
  world = await startWorld();
  setDatabaseHandleForTests(world.db);
  await world.install();
  await world.authorize();
  connectionId = (await world.connection())!.id;
});
afterAll(async () => {
  setDatabaseHandleForTests(undefined);
  await world?.close();
});

/** Make the connection's refresh token `days` old at `at` (as if it had been idle that long). */
async function ageRefreshToken(days: number, at = Date.now()) {
  await world.db.db.update(connections).set({ refreshTokenIssuedAt: new Date(at - days * DAY_MS) }).where(eq(connections.id, connectionId));
}
const refreshGrants = async () => (await world.requestLog()).filter((l) => l.grant_type === "refresh_token");

describe("connection-keep-alive (InngestTestEngine)", () => {
  it("is registered as a daily cron with one run at a time", () => {
    expect(functions).toContain(connectionKeepAlive);
    expect(connectionKeepAlive.opts.triggers).toEqual([{ cron: KEEP_ALIVE_CRON }]);
    expect(connectionKeepAlive.opts.concurrency).toEqual({ limit: 1 });
  });

  it("refreshes a connection idle for longer than the limit, in its own step, and Sage rotates the token", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 5);
    await world.clearRequestLog();
    const t = new InngestTestEngine({ function: connectionKeepAlive });
    const { result, ctx } = await t.execute({ events: [cronEvent(Date.now())] });
    expect(result).toEqual({ checked: 1, refreshed: 1, reconnectRequired: 0, failed: [] });
    expect(ctx.step.run).toHaveBeenCalledWith("list-connections-due", expect.any(Function));
    expect(ctx.step.run).toHaveBeenCalledWith(`keep-alive-${connectionId}`, expect.any(Function));
    expect(await refreshGrants()).toHaveLength(1);
    const row = (await world.connection())!;
    expect(Date.now() - row.refreshTokenIssuedAt!.getTime()).toBeLessThan(60_000);
    expect(row.status).toBe("connected");
  });

  it("does nothing when no connection is due (refresh token younger than the limit)", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS - 1);
    await world.clearRequestLog();
    const t = new InngestTestEngine({ function: connectionKeepAlive });
    const { result } = await t.execute({ events: [cronEvent(Date.now())] });
    expect(result).toEqual({ checked: 0, refreshed: 0, reconnectRequired: 0, failed: [] });
    expect(await refreshGrants()).toHaveLength(0);
  });
});

describe("connection-keep-alive (inline runner)", () => {
  it("fires at 03:00 UTC and keeps the due connection alive", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 1, Date.parse("2026-03-01T03:00:00Z"));
    await world.clearRequestLog();
    let now = new Date("2026-03-01T02:59:30Z");
    const { runner } = testRunner(world.db, [connectionKeepAlive], { now: () => now });
    runner.start();
    try {
      await runner.drain(); // first start: records the mark
      now = new Date("2026-03-01T03:00:02Z");
      await runner.drain();
      const runs = await runner.listRuns({ functionId: "connection-keep-alive" });
      expect(runs).toHaveLength(1);
      expect(runs[0]?.event).toMatchObject({ name: CRON_EVENT_NAME, data: { cron: KEEP_ALIVE_CRON }, ts: Date.parse("2026-03-01T03:00:00Z") });
      expect(runs[0]?.status).toBe("completed");
      expect(runs[0]?.output).toEqual({ checked: 1, refreshed: 1, reconnectRequired: 0, failed: [] });
      expect(await refreshGrants()).toHaveLength(1);
    } finally {
      await runner.stop();
    }
  });

  // (InngestTestEngine does not model retries or StepError, so this one runs on the inline runner.)
  it("a connection whose token endpoint keeps failing is retried, then reported failed; a revoked one becomes reconnect_required", async () => {
    const tick = Date.parse("2026-03-02T03:00:00Z");
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 2, tick);
    await world.clearRequestLog();
    await world.control("faults", { route: "sage.token", kind: "status", status: 503, probability: 1 });
    // a clock running from 02:59:59.7 UTC
    const offset = tick - 300 - Date.now();
    const { runner } = testRunner(world.db, [connectionKeepAlive], { now: () => new Date(Date.now() + offset), retryBaseDelayMs: 1 });
    runner.start();
    try {
      await runner.drain(); // records the mark before 03:00
      await new Promise((r) => setTimeout(r, 400));
      await runner.drain({ includeScheduled: true }); // the 03:00 run, through its retries
      const run = (await runner.listRuns({ functionId: "connection-keep-alive" })).find((r) => (r.event as { ts: number }).ts === tick);
      expect(run?.status).toBe("completed");
      expect(run?.output).toEqual({ checked: 1, refreshed: 0, reconnectRequired: 0, failed: [connectionId] });
      // the fault fired: every refresh attempt was answered 503, and there was more than one (retries)
      const grants = await refreshGrants();
      expect(grants.length).toBeGreaterThan(1);
      expect(grants.every((g) => g.status === 503)).toBe(true);
    } finally {
      await runner.stop();
      await fetch(`${world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    }
    expect((await world.connection())!.status).toBe("connected");

    // Sage refuses the refresh token for good: reconnect_required, with its Action Log entry
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 2);
    await world.control("sage/revoke-refresh-tokens");
    const t = new InngestTestEngine({ function: connectionKeepAlive });
    const { result } = await t.execute({ events: [cronEvent(Date.now())] });
    expect(result).toEqual({ checked: 1, refreshed: 0, reconnectRequired: 1, failed: [] });
    expect((await world.connection())!.status).toBe("reconnect_required");
    const logs = await world.db.db.select().from(actionLog).where(eq(actionLog.tenantId, world.tenantId));
    expect(logs.some((l) => /Reconnect required/i.test(l.message))).toBe(true);
  });
});
