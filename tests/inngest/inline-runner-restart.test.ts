import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineFunction } from "@/inngest/define";
import type { InlineRunner } from "@/inngest/inline-runner";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { testRunner, until } from "./helpers";

/**
 * Durability: a run survives its runner. The database is file-backed (PGlite in a temp dir, or a
 * fresh PostgreSQL database when DATABASE_URL is set) and closed and reopened between runners,
 * as across a process restart.
 */

const calls: Record<string, number> = {};
const bump = (key: string) => (calls[key] = (calls[key] ?? 0) + 1);
/** A step body that waits until released (simulates a runner dying in the middle of a step). */
let hang: Promise<void> | undefined;

const sleeper = defineFunction({ id: "t-restart-sleep", triggers: [{ event: "test/restart-sleep" }] }, async ({ step }) => {
  const one = await step.run("one", () => (bump("one"), "first"));
  await step.sleep("pause", "1s");
  const two = await step.run("two", () => (bump("two"), "second"));
  return [one, two];
});

const crasher = defineFunction({ id: "t-restart-crash", triggers: [{ event: "test/restart-crash" }] }, async ({ step }) => {
  const one = await step.run("one", () => (bump("crash.one"), 1));
  const two = await step.run("two", async () => {
    bump("crash.two");
    if (hang) await hang;
    return 2;
  });
  return one + two;
});

let db: TestDatabase;
const runners: InlineRunner[] = [];

beforeEach(async () => {
  for (const k of Object.keys(calls)) delete calls[k];
  hang = undefined;
  db = await openTestDatabase({ persistent: true });
});

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop({ timeoutMs: 500 });
  await db.drop();
});

describe("inline runner: restart", () => {
  it("a run stopped during a sleep completes on a new runner without re-running finished steps", async () => {
    const a = testRunner(db, [sleeper]).runner;
    runners.push(a);
    a.start();
    const { runIds } = await a.send({ name: "test/restart-sleep" });
    const runId = runIds[0]!;
    await until(async () => (await a.getRun(runId))?.status === "queued" && calls.one === 1, 3_000, "the run to sleep");
    await a.stop();

    db = await db.reopen(); // "restart": close the database and open it again
    const b = testRunner(db, [sleeper]).runner;
    runners.push(b);
    expect(b.workerId).not.toBe(a.workerId);
    b.start();
    const run = await b.waitForRun(runId, { timeoutMs: 5_000 });
    expect(run.status).toBe("completed");
    expect(run.output).toEqual(["first", "second"]);
    expect(calls).toEqual({ one: 1, two: 1 });
  });

  it("a run whose runner died mid-step is taken over after its lease expires; finished steps are not repeated", async () => {
    hang = new Promise<void>(() => {}); // runner A never finishes step "two"
    const a = testRunner(db, [crasher], { leaseMs: 600 }).runner;
    runners.push(a);
    a.start();
    const { runIds } = await a.send({ name: "test/restart-crash" });
    const runId = runIds[0]!;
    await until(() => calls["crash.two"] === 1, 3_000, "step two to start");
    const interrupted = await a.getRun(runId);
    expect(interrupted?.status).toBe("running");
    expect(interrupted?.lockedBy).toBe(a.workerId);
    expect(Object.keys(interrupted!.steps)).toEqual(["one"]);
    await a.stop({ timeoutMs: 50 }); // gives up on the hung step: like a crash, the lease stays

    hang = undefined;
    db = await db.reopen();
    const b = testRunner(db, [crasher], { leaseMs: 600 }).runner;
    runners.push(b);
    b.start();
    const run = await b.waitForRun(runId, { timeoutMs: 5_000 });
    expect(run.status).toBe("completed");
    expect(run.output).toBe(3);
    expect(calls["crash.one"]).toBe(1); // memoized
    expect(calls["crash.two"]).toBe(2); // interrupted, so run again
  });

  it("queued runs sent before a restart are executed by the next runner", async () => {
    const a = testRunner(db, [sleeper]).runner; // never started: the process "died" right after send
    const { runIds } = await a.send([{ name: "test/restart-sleep" }, { name: "test/restart-sleep" }]);
    db = await db.reopen();
    const b = testRunner(db, [sleeper]).runner;
    runners.push(b);
    b.start();
    for (const id of runIds) expect((await b.waitForRun(id, { timeoutMs: 5_000 })).status).toBe("completed");
    expect(calls).toEqual({ one: 2, two: 2 });
  });
});
