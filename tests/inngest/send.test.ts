import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDatabaseHandleForTests } from "@/db/client";
import { isInlineMode } from "@/inngest/client";
import { getInlineRunner, resetInlineRunnerForTests, sendEvent, startInlineRunnerIfNeeded } from "@/inngest/send";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

const SERVER_VARS = ["INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY", "INNGEST_BASE_URL", "INNGEST_DEV"];

describe("isInlineMode", () => {
  it("is inline unless an Inngest server is configured", () => {
    expect(isInlineMode({})).toBe(true);
    expect(isInlineMode({ INNGEST_DEV: "0" })).toBe(true);
    expect(isInlineMode({ INNGEST_EVENT_KEY: "" })).toBe(true);
    expect(isInlineMode({ INNGEST_DEV: "1" })).toBe(false);
    expect(isInlineMode({ INNGEST_DEV: "http://localhost:8288" })).toBe(false);
    expect(isInlineMode({ INNGEST_BASE_URL: "http://inngest:8288" })).toBe(false);
    expect(isInlineMode({ INNGEST_EVENT_KEY: "k", INNGEST_SIGNING_KEY: "signkey-prod-00" })).toBe(false);
  });
});

describe("sendEvent in inline mode", () => {
  let db: TestDatabase;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const k of SERVER_VARS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    db = await openTestDatabase();
    setDatabaseHandleForTests(db);
  });
  afterAll(async () => {
    await resetInlineRunnerForTests();
    setDatabaseHandleForTests(undefined);
    await db.drop();
    for (const k of SERVER_VARS) if (saved[k] !== undefined) process.env[k] = saved[k];
  });

  it("starts one process-wide runner with the app's functions and records events", async () => {
    const runner = await startInlineRunnerIfNeeded();
    expect(runner).toBeDefined();
    expect(await getInlineRunner()).toBe(runner);
    expect(runner!.isRunning).toBe(true);
    expect(runner!.functionIds).toContain("connection-keep-alive");
    const tenantId = "00000000-0000-4000-8000-000000000001";
    const { ids } = await sendEvent({ name: "sage/connection.test.requested", data: { tenantId, connectionId: tenantId, actor: { type: "system", label: "test" } }, id: "e-1" });
    expect(ids).toEqual(["e-1"]);
    await expect(sendEvent({ name: "inngest/scheduled.timer" })).rejects.toThrow(/reserved/);
  });

  it("refuses, at the sender, an unknown event, invalid data and an oversized event — and enqueues nothing", async () => {
    const runner = (await getInlineRunner())!;
    const before = (await runner.listRuns()).length;
    await expect(sendEvent({ name: "app/nothing.listens", data: { x: 1 } })).rejects.toThrow('Unknown event "app/nothing.listens": not one of inngest/events.ts');
    await expect(sendEvent({ name: "sync/batch.requested", data: { tenantId: "t-1", connectionId: "00000000-0000-4000-8000-000000000001" } })).rejects.toThrow(
      /^Invalid "sync\/batch.requested" event: tenantId: Invalid UUID; batchId: /,
    );
    const id = "00000000-0000-4000-8000-000000000001";
    const huge = { tenantId: id, requestId: id, actor: { type: "user" as const, label: "x".repeat(300 * 1024) } };
    await expect(sendEvent({ name: "mapping/marketplace.refresh.requested", data: huge })).rejects.toThrow(/is \d+ bytes, over the 262144-byte limit/);
    expect((await runner.listRuns()).length).toBe(before);
  });

  it("answers the Inngest endpoint with 404 in inline mode", async () => {
    const route = await import("@/app/api/inngest/route");
    const res = await route.GET(new Request("http://localhost:3000/api/inngest") as never, undefined as never);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "inline_mode" });
  });
});
