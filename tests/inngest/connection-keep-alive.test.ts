import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog, connections } from "@/db/schema";
import { connectionKeepAliveRequested } from "@/inngest/events";
import { connectionKeepAlive, connectionKeepAliveOne, KEEP_ALIVE_CRON, KEEP_ALIVE_MAX_AGE_DAYS } from "@/inngest/functions/connection-keep-alive";
import { functions } from "@/inngest/functions";
import { CRON_EVENT_NAME } from "@/inngest/inline-runner";
import { startWorld, type World } from "../helpers/world";
import { testRunner } from "./helpers";

/**
 * The daily keep-alive, end to end: the real functions (the cron tick that fans out, and the
 * per-connection run) on the inline runner, the real domain code, a real database and the Sage
 * sandbox over HTTP. Nothing of ours is mocked. A connection is "due" when its refresh token was
 * issued more than KEEP_ALIVE_MAX_AGE_DAYS ago; the sandbox's request log shows what Sage received.
 */
const DAY_MS = 24 * 3600 * 1000;

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

/** A runner whose clock stands 300 ms before 03:00 UTC of `day`, so the daily tick fires moments later. */
async function runTickAt(day: string, options: Parameters<typeof testRunner>[2] = {}) {
  const tick = Date.parse(`${day}T03:00:00Z`);
  const offset = tick - 300 - Date.now();
  const { runner } = testRunner(world.db, [connectionKeepAlive, connectionKeepAliveOne], { now: () => new Date(Date.now() + offset), ...options });
  runner.start();
  try {
    await runner.drain(); // records the cron mark before 03:00
    await new Promise((r) => setTimeout(r, 400));
    await runner.drain({ includeScheduled: true, timeoutMs: 20_000 });
    const ticks = (await runner.listRuns({ functionId: "connection-keep-alive" })).filter((r) => (r.event as { ts: number }).ts === tick);
    const perConnection = await runner.listRuns({ functionId: "connection-keep-alive-connection" });
    return { tick, ticks, perConnection };
  } finally {
    await runner.stop();
  }
}

describe("connection-keep-alive", () => {
  it("is registered: a daily cron that fans out, and a per-connection function on the shared Sage connection key", () => {
    expect(functions).toContain(connectionKeepAlive);
    expect(functions).toContain(connectionKeepAliveOne);
    expect(connectionKeepAlive.opts.triggers).toEqual([{ cron: KEEP_ALIVE_CRON }]);
    expect(connectionKeepAliveOne.opts.concurrency).toEqual([{ limit: 1, scope: "env", key: "event.data.connectionId" }]);
  });

  it("at 03:00 UTC the tick sends one event for the due connection; its run refreshes the token and Sage rotates it", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 1, Date.parse("2026-03-01T03:00:00Z"));
    await world.clearRequestLog();
    const { ticks, perConnection } = await runTickAt("2026-03-01");
    expect(ticks).toHaveLength(1);
    expect(ticks[0]?.event).toMatchObject({ name: CRON_EVENT_NAME, data: { cron: KEEP_ALIVE_CRON } });
    expect(ticks[0]?.status).toBe("completed");
    expect(ticks[0]?.output).toEqual({ dispatched: 1 });
    expect(perConnection).toHaveLength(1);
    expect(perConnection[0]?.event).toMatchObject({ name: connectionKeepAliveRequested.name, data: { connectionId }, id: `keep-alive-${connectionId}-2026-03-01` });
    expect(perConnection[0]?.status).toBe("completed");
    expect(perConnection[0]?.output).toEqual({ refreshed: true, status: "connected" });
    const grants = await refreshGrants();
    expect(grants).toHaveLength(1);
    expect(grants[0]?.status).toBe(200);
    const row = (await world.connection())!;
    expect(Date.now() - row.refreshTokenIssuedAt!.getTime()).toBeLessThan(60_000);
    expect(row.status).toBe("connected");
  });

  it("does nothing when no connection is due (refresh token younger than the limit)", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS - 1, Date.parse("2026-03-02T03:00:00Z"));
    await world.clearRequestLog();
    const { ticks, perConnection } = await runTickAt("2026-03-02");
    expect(ticks.map((t) => [t.status, t.output])).toEqual([["completed", { dispatched: 0 }]]);
    expect(perConnection.filter((r) => (r.event as { id: string }).id.endsWith("2026-03-02"))).toEqual([]);
    expect(await refreshGrants()).toHaveLength(0);
  });

  it("a token endpoint that keeps failing: the connection's own run is retried (every attempt reached Sage) and fails; the connection stays connected", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 2, Date.parse("2026-03-03T03:00:00Z"));
    await world.clearRequestLog();
    await world.control("faults", { route: "sage.token", kind: "status", status: 503, probability: 1 });
    try {
      const { ticks, perConnection } = await runTickAt("2026-03-03", { retryBaseDelayMs: 1 });
      expect(ticks[0]?.output).toEqual({ dispatched: 1 });
      const run = perConnection.find((r) => (r.event as { id: string }).id === `keep-alive-${connectionId}-2026-03-03`);
      expect(run?.status).toBe("failed");
      // the fault fired: every refresh attempt was answered 503, and there was more than one (retries)
      const grants = await refreshGrants();
      expect(grants.length).toBeGreaterThan(1);
      expect(grants.every((g) => g.status === 503)).toBe(true);
    } finally {
      await fetch(`${world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    }
    expect((await world.connection())!.status).toBe("connected");
  });

  it("Sage refuses the refresh token for good: the run ends with reconnect_required and its Action Log entry", async () => {
    await ageRefreshToken(KEEP_ALIVE_MAX_AGE_DAYS + 2, Date.parse("2026-03-04T03:00:00Z"));
    await world.control("sage/revoke-refresh-tokens");
    const { perConnection } = await runTickAt("2026-03-04");
    const run = perConnection.find((r) => (r.event as { id: string }).id === `keep-alive-${connectionId}-2026-03-04`);
    expect(run?.status).toBe("completed");
    expect(run?.output).toEqual({ refreshed: false, status: "reconnect_required" });
    expect((await world.connection())!.status).toBe("reconnect_required");
    const logs = await world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), eq(actionLog.level, "error")));
    expect(logs.filter((l) => /Reconnect required/i.test(l.message)).length).toBeGreaterThanOrEqual(1);
  });
});
