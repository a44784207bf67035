import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncBatch } from "@/inngest/functions/sync-batch";
import { syncTask } from "@/inngest/functions/sync-task";
import { appEvents } from "@/inngest/events";
import { functions } from "@/inngest/functions";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { testRunner } from "./helpers";

/**
 * Typed events: a function refuses a payload that does not match its trigger's schema before its
 * handler runs — at once, without retries, with the field named (as Inngest's trigger validation
 * does). The inline runner is used to deliver the bad event: it does not check on send, so the
 * function's own check is what is proven here.
 */
describe("typed events", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => db?.drop());

  it("every event-triggered function's trigger is one of inngest/events.ts (with a schema)", () => {
    const names = new Set(appEvents.map((e) => e.name));
    for (const fn of functions) {
      for (const t of (fn.opts.triggers ?? []) as { event?: string; cron?: string; schema?: unknown }[]) {
        if (t.cron) continue;
        expect(names.has(t.event as never), `${fn.id()} trigger ${t.event}`).toBe(true);
        expect(t.schema, `${fn.id()} trigger ${t.event} has a schema`).toBeTruthy();
      }
    }
  });

  it("an invalid sync/batch.requested (task ids instead of a batch id) fails at once, one attempt, naming the field; no handler step ran", async () => {
    const { runner } = testRunner(db, [syncBatch, syncTask], { retryBaseDelayMs: 1 });
    runner.start();
    try {
      const id = "00000000-0000-4000-8000-000000000001";
      const { runIds } = await runner.send({ name: "sync/batch.requested", data: { tenantId: id, connectionId: id, taskIds: [id] } });
      const run = await runner.waitForRun(runIds[0]!, { timeoutMs: 10_000 });
      expect(run.status).toBe("failed");
      expect(run.attempt).toBe(0);
      expect(run.lastError).toContain('Invalid "sync/batch.requested" event: batchId:');
      expect(run.steps ?? {}).toEqual({});
      const { runIds: badTask } = await runner.send({ name: "sync/task.requested", data: { tenantId: id, taskId: "PR-1", connectionId: id } });
      const taskRun = await runner.waitForRun(badTask[0]!, { timeoutMs: 10_000 });
      expect([taskRun.status, taskRun.attempt]).toEqual(["failed", 0]);
      expect(taskRun.lastError).toContain('Invalid "sync/task.requested" event: taskId: Invalid UUID');
    } finally {
      await runner.stop();
    }
  });
});
