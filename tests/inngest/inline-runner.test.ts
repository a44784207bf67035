import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonRetriableError, RetryAfterError } from "inngest";
import { defineFunction } from "@/inngest/define";
import { CRON_EVENT_NAME, type InlineRunner } from "@/inngest/inline-runner";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { sleep, testRunner, until } from "./helpers";

// Counters the handlers write to: they live in the test process, so a re-executed step shows up.
const calls: Record<string, number> = {};
const seen: Record<string, unknown[]> = {};
const bump = (key: string) => (calls[key] = (calls[key] ?? 0) + 1);
const record = (key: string, value: unknown) => (seen[key] ??= []).push(value);

let db: TestDatabase;
const runners: InlineRunner[] = [];
const track = <T extends { runner: InlineRunner }>(r: T) => (runners.push(r.runner), r);

beforeEach(async () => {
  for (const k of Object.keys(calls)) delete calls[k];
  for (const k of Object.keys(seen)) delete seen[k];
  db = await openTestDatabase();
});

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop({ timeoutMs: 1_000 });
  await db.drop();
});

// ---------------------------------------------------------------------------------------------
// Functions under test

const memoFn = defineFunction({ id: "t-memo", triggers: [{ event: "test/memo" }], retries: 3 }, async ({ step, attempt }) => {
  record("memo.attempts", attempt);
  const first = await step.run("first", () => {
    bump("first");
    return { at: new Date("2026-01-02T03:04:05Z"), n: 41 };
  });
  const second = await step.run("second", () => {
    bump("second");
    if (calls.second === 1) throw new Error("transient failure");
    return first.n + 1;
  });
  return { first, second };
});

const sleepFn = defineFunction({ id: "t-sleep", triggers: [{ event: "test/sleep" }] }, async ({ step }) => {
  const before = await step.run("before", () => (bump("before"), Date.now()));
  await step.sleep("nap", "1s");
  const after = await step.run("after", () => (bump("after"), Date.now()));
  return { before, after };
});

const keyedFn = defineFunction(
  { id: "t-keyed", triggers: [{ event: "test/keyed" }], concurrency: { limit: 1, key: "event.data.connectionId" } },
  async ({ event, step }) => {
    const key = String(event.data.connectionId);
    await step.run("work", async () => {
      const active = bump(`active:${key}`) - (calls[`done:${key}`] ?? 0);
      record(`overlap:${key}`, active);
      bump("running");
      record("running", (calls.running ?? 0) - (calls.finished ?? 0));
      await sleep(150);
      bump(`done:${key}`);
      bump("finished");
    });
  },
);

const limitedFn = defineFunction({ id: "t-limited", triggers: [{ event: "test/limited" }], concurrency: 2 }, async ({ step }) => {
  await step.run("work", async () => {
    record("limited", bump("limited.start") - (calls["limited.end"] ?? 0));
    await sleep(100);
    bump("limited.end");
  });
});

const failingFn = defineFunction({ id: "t-failing", triggers: [{ event: "test/failing" }], retries: 2 }, async ({ attempt }) => {
  record("failing.attempts", attempt);
  record("failing.at", Date.now());
  throw new Error("always broken");
});

const nonRetriableFn = defineFunction({ id: "t-nonretriable", triggers: [{ event: "test/nonretriable" }], retries: 5 }, async ({ step }) => {
  await step.run("validate", () => {
    bump("validate");
    throw new NonRetriableError("bad input");
  });
});

const retryAfterFn = defineFunction({ id: "t-retry-after", triggers: [{ event: "test/retry-after" }] }, async ({ step }) => {
  record("retryAfter.at", Date.now());
  await step.run("call", () => {
    if (bump("call") === 1) throw new RetryAfterError("rate limited", 1_000);
    return "ok";
  });
});

const catchesStepFailure = defineFunction({ id: "t-catch", triggers: [{ event: "test/catch" }], retries: 1 }, async ({ step }) => {
  try {
    await step.run("flaky", () => {
      bump("flaky");
      throw new Error("still down");
    });
    return "unreachable";
  } catch (e) {
    return `recovered from ${(e as Error).message}`;
  }
});

const fanOut = defineFunction({ id: "t-fanout", triggers: [{ event: "test/fanout" }] }, async ({ step, attempt }) => {
  await step.sendEvent("notify", { name: "test/child", data: { n: 1 } });
  if (attempt === 0) throw new Error("fail after sending");
  return "done";
});

const child = defineFunction({ id: "t-child", triggers: [{ event: "test/child" }] }, async ({ event }) => {
  bump("child");
  record("child", event.data);
});

const dupIds = defineFunction({ id: "t-dup", triggers: [{ event: "test/dup" }] }, async ({ step }) => {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) out.push(await step.run("item", () => (bump("item"), i * 10)));
  return out;
});

const withFailureHandler = defineFunction(
  {
    id: "t-onfailure",
    triggers: [{ event: "test/onfailure" }],
    retries: 0,
    onFailure: async ({ error, event }) => {
      record("onFailure", { message: error.message, original: event.data.event.name });
    },
  },
  async () => {
    throw new Error("boom");
  },
);

const unsupportedStep = defineFunction({ id: "t-unsupported", triggers: [{ event: "test/unsupported" }], retries: 0 }, async ({ step }) => {
  await step.waitForEvent("wait", { event: "test/never", timeout: "1h" });
});

const secretive = defineFunction({ id: "t-secret", triggers: [{ event: "test/secret" }], retries: 1 }, async ({ event, step, attempt }) => {
  await step.run("use-token", () => String(event.data.token).length);
  if (attempt === 0) throw new Error("upstream said no");
  return "ok";
});

const conditional = defineFunction(
  { id: "t-if", triggers: [{ event: "test/if", if: "event.data.kind == 'sale' && event.data.live != false" }] },
  async ({ event }) => record("if", event.data.kind),
);

// ---------------------------------------------------------------------------------------------

const parallel = defineFunction({ id: "t-parallel", triggers: [{ event: "test/parallel" }] }, async ({ step }) => {
  const [a, b] = await Promise.all([
    step.run("a", async () => (bump("a"), await sleep(50), "A")),
    step.run("b", async () => (bump("b"), "B")),
  ]);
  await step.sleep("rest", "1s");
  return `${a}${b}`;
});

describe("inline runner", () => {
  it("memoizes step.run across a retry: a finished step never runs again", async () => {
    const { runner } = track(testRunner(db, [memoFn]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/memo", data: {} });
    expect(runIds).toHaveLength(1);
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    expect(calls).toMatchObject({ first: 1, second: 2 });
    // one execution per step, as in Inngest: "first" (attempt 0), "second" fails (0), "second" again
    // (1), then the return (0: attempts are counted per step)
    expect(seen["memo.attempts"]).toEqual([0, 0, 1, 0]);
    // step results are JSON, as with Inngest (the Date came back as a string)
    expect(run.output).toEqual({ first: { at: "2026-01-02T03:04:05.000Z", n: 41 }, second: 42 });
    expect(Object.keys(run.steps).sort()).toEqual(["first", "second"]);
  });

  it("step.sleep really waits, then resumes after the memoized steps", async () => {
    const { runner } = track(testRunner(db, [sleepFn]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/sleep" });
    await until(async () => {
      const r = await runner.getRun(runIds[0]!);
      return r?.status === "queued" && r.steps.nap !== undefined;
    }, 3_000, "the run to sleep");
    const sleeping = await runner.getRun(runIds[0]!);
    expect(sleeping?.steps.nap).toMatchObject({ op: "sleep" });
    expect(sleeping!.runAt.getTime()).toBeGreaterThan(Date.now() + 500);
    const run = await runner.waitForRun(runIds[0]!, { timeoutMs: 5_000 });
    expect(run.status).toBe("completed");
    const { before, after } = run.output as { before: number; after: number };
    expect(after - before).toBeGreaterThanOrEqual(1_000);
    expect(calls).toMatchObject({ before: 1, after: 1 });
  });

  it("parallel steps are all recorded before the run sleeps", async () => {
    const { runner } = track(testRunner(db, [parallel]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/parallel" });
    const run = await runner.waitForRun(runIds[0]!, { timeoutMs: 5_000 });
    expect(run.output).toBe("AB");
    expect(calls).toMatchObject({ a: 1, b: 1 });
    expect(Object.keys(run.steps).sort()).toEqual(["a", "b", "rest"]);
  });

  it("a concurrency key serializes runs with the same key and lets different keys run in parallel", async () => {
    const { runner } = track(testRunner(db, [keyedFn]));
    runner.start();
    await runner.send([
      { name: "test/keyed", data: { connectionId: "A" } },
      { name: "test/keyed", data: { connectionId: "A" } },
      { name: "test/keyed", data: { connectionId: "A" } },
      { name: "test/keyed", data: { connectionId: "B" } },
      { name: "test/keyed", data: { connectionId: "B" } },
    ]);
    await runner.drain();
    expect(calls["done:A"]).toBe(3);
    expect(calls["done:B"]).toBe(2);
    expect(Math.max(...(seen["overlap:A"] as number[]))).toBe(1);
    expect(Math.max(...(seen["overlap:B"] as number[]))).toBe(1);
    expect(Math.max(...(seen.running as number[]))).toBe(2); // A and B side by side
    const runs = await runner.listRuns({ functionId: "t-keyed" });
    expect(runs.map((r) => r.concurrencyKey).sort()).toEqual(["A", "A", "A", "B", "B"]);
  });

  it("the concurrency key holds across two runners on the same database", async () => {
    const a = track(testRunner(db, [keyedFn], { workerId: "worker-a" })).runner;
    const b = track(testRunner(db, [keyedFn], { workerId: "worker-b" })).runner;
    await a.send([1, 2, 3, 4].map(() => ({ name: "test/keyed", data: { connectionId: "shared" } })));
    a.start();
    b.start();
    await until(() => calls["done:shared"] === 4, 5_000, "four runs");
    await a.drain();
    await b.drain();
    expect(Math.max(...(seen["overlap:shared"] as number[]))).toBe(1);
    const runs = await a.listRuns();
    expect(runs.map((r) => [r.status, r.lockedBy])).toEqual(runs.map(() => ["completed", null]));
  });

  it("a function-wide concurrency limit caps parallel runs", async () => {
    const { runner } = track(testRunner(db, [limitedFn]));
    runner.start();
    await runner.send([1, 2, 3, 4, 5].map(() => ({ name: "test/limited" })));
    await runner.drain();
    expect(calls["limited.end"]).toBe(5);
    expect(Math.max(...(seen.limited as number[]))).toBe(2);
  });

  it("retries with exponential backoff and fails after `retries`", async () => {
    const { runner, log } = track(testRunner(db, [failingFn], { retryBaseDelayMs: 100 }));
    runner.start();
    const { runIds } = await runner.send({ name: "test/failing" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("failed");
    expect(run.lastError).toContain("always broken");
    expect(run.attempt).toBe(2);
    expect(seen["failing.attempts"]).toEqual([0, 1, 2]);
    const at = seen["failing.at"] as number[];
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(100);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(200);
    // and no further attempt comes later
    await sleep(500);
    expect(seen["failing.attempts"]).toHaveLength(3);
    expect(log.lines.some((l) => l.includes("t-failing") && l.includes("failed (after 3 attempt(s))"))).toBe(true);
  });

  it("NonRetriableError fails the run at once", async () => {
    const { runner } = track(testRunner(db, [nonRetriableFn]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/nonretriable" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("failed");
    expect(run.lastError).toContain("bad input");
    expect(calls.validate).toBe(1);
  });

  it("RetryAfterError waits the given time before the next attempt", async () => {
    const { runner } = track(testRunner(db, [retryAfterFn]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/retry-after" });
    const run = await runner.waitForRun(runIds[0]!, { timeoutMs: 5_000 });
    expect(run.status).toBe("completed");
    const at = seen["retryAfter.at"] as number[];
    expect(at).toHaveLength(3); // failed call, retried call, then the return (one step per execution)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    expect(at[2]! - at[1]!).toBeLessThan(950);
  });

  it("a step out of retries surfaces as a StepError the handler can catch", async () => {
    const { runner } = track(testRunner(db, [catchesStepFailure]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/catch" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("recovered from still down");
    expect(calls.flaky).toBe(2); // retries: 1
  });

  it("step.sendEvent is memoized: a retried run does not send twice", async () => {
    const { runner } = track(testRunner(db, [fanOut, child]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/fanout" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    await runner.drain();
    expect(calls.child).toBe(1);
    expect(seen.child).toEqual([{ n: 1 }]);
  });

  it("an event id is sent once: a repeat starts no new run", async () => {
    const { runner } = track(testRunner(db, [child]));
    runner.start();
    const first = await runner.send({ name: "test/child", id: "evt-1", data: { n: 7 } });
    const again = await runner.send({ name: "test/child", id: "evt-1", data: { n: 7 } });
    expect(first.runIds).toHaveLength(1);
    expect(again.runIds).toHaveLength(0);
    expect(again.ids).toEqual(["evt-1"]);
    await runner.drain();
    expect(calls.child).toBe(1);
  });

  it("repeated step ids get Inngest's :n suffixes and are memoized separately", async () => {
    const { runner } = track(testRunner(db, [dupIds]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/dup" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.output).toEqual([0, 10, 20]);
    expect(Object.keys(run.steps).sort()).toEqual(["item", "item:1", "item:2"]);
    expect(calls.item).toBe(3);
  });

  it("runs onFailure (as <id>-failure) with the error and the original event", async () => {
    const { runner } = track(testRunner(db, [withFailureHandler]));
    runner.start();
    await runner.send({ name: "test/onfailure" });
    await runner.drain();
    expect(seen.onFailure).toEqual([{ message: "boom", original: "test/onfailure" }]);
    const failureRuns = await runner.listRuns({ functionId: "t-onfailure-failure" });
    expect(failureRuns.map((r) => r.status)).toEqual(["completed"]);
  });

  it("says clearly when a step tool is not simulated", async () => {
    const { runner } = track(testRunner(db, [unsupportedStep]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/unsupported" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("failed");
    expect(run.lastError).toContain("step.waitForEvent() is not supported by the inline runner");
  });

  it("matches `if` conditions on triggers", async () => {
    const { runner } = track(testRunner(db, [conditional]));
    runner.start();
    const { runIds } = await runner.send([
      { name: "test/if", data: { kind: "sale" } },
      { name: "test/if", data: { kind: "refund" } },
      { name: "test/if", data: { kind: "sale", live: false } },
    ]);
    expect(runIds).toHaveLength(1);
    await runner.drain();
    expect(seen.if).toEqual(["sale"]);
  });

  it("rejects functions it cannot simulate faithfully", () => {
    const badKey = defineFunction(
      { id: "t-bad-key", triggers: [{ event: "test/bad" }], concurrency: { limit: 1, key: "event.data.a + event.data.b" } },
      async () => undefined,
    );
    expect(() => testRunner(db, [badKey])).toThrow(/unsupported concurrency key/);
  });

  it("never logs event data", async () => {
    const { runner, log } = track(testRunner(db, [secretive]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/secret", data: { token: "sk_live_SUPERSECRET" } });
    expect((await runner.waitForRun(runIds[0]!)).status).toBe("completed");
    expect(log.lines.length).toBeGreaterThan(2);
    expect(log.lines.join("\n")).not.toContain("SUPERSECRET");
  });
});

describe("inline runner: cron", () => {
  const everySecond = defineFunction({ id: "t-cron-second", triggers: [{ cron: "* * * * * *" }] }, async ({ event }) => {
    record("cron", event);
  });

  const everyTen = defineFunction({ id: "t-cron-ten", triggers: [{ cron: "*/10 * * * * *" }] }, async ({ event }) => {
    record("ten", event.ts);
  });

  const parisNight = defineFunction({ id: "t-cron-tz", triggers: [{ cron: "TZ=Europe/Paris 0 3 * * *" }] }, async ({ event }) => {
    record("tz", (event.data as { cron?: string }).cron);
  });

  it("fires on its own schedule with Inngest's scheduled.timer event, not at start", async () => {
    const { runner } = track(testRunner(db, [everySecond]));
    const startedAt = Date.now();
    runner.start();
    await sleep(2_300);
    await runner.drain();
    const events = (seen.cron ?? []) as Array<{ name: string; data: { cron: string }; ts: number }>;
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(Math.ceil((Date.now() - startedAt) / 1000));
    expect(events[0]!.ts).toBeGreaterThan(startedAt - 1); // nothing fired for the tick before start
    expect(events[0]).toMatchObject({ name: CRON_EVENT_NAME, data: { cron: "* * * * * *" } });
    expect(events.every((e) => e.ts % 1000 === 0)).toBe(true); // ticks on the second
    expect(new Set(events.map((e) => e.ts)).size).toBe(events.length); // no tick twice
  });

  it("a restart neither skips a due tick nor repeats one (injected clock)", async () => {
    let now = new Date("2026-01-01T00:00:05.000Z");
    const clock = () => now;
    const first = track(testRunner(db, [everyTen], { now: clock })).runner;
    first.start();
    await first.drain();
    expect(seen.ten).toBeUndefined(); // first start records the mark, fires nothing

    now = new Date("2026-01-01T00:00:12.000Z");
    await first.drain();
    expect(seen.ten).toEqual([Date.parse("2026-01-01T00:00:10.000Z")]);
    await first.stop();

    // down for a while: the ticks at :20 and :30 and :40 are missed → one catch-up run, for :40
    now = new Date("2026-01-01T00:00:45.000Z");
    const second = track(testRunner(db, [everyTen], { now: clock })).runner;
    second.start();
    await second.drain();
    expect(seen.ten).toEqual([Date.parse("2026-01-01T00:00:10.000Z"), Date.parse("2026-01-01T00:00:40.000Z")]);
    await second.stop();

    // restarted again before the next tick: nothing repeats
    const third = track(testRunner(db, [everyTen], { now: clock })).runner;
    third.start();
    await third.drain();
    expect(seen.ten).toHaveLength(2);
    now = new Date("2026-01-01T00:00:50.500Z");
    await third.drain();
    expect(seen.ten).toHaveLength(3);
    expect((seen.ten as number[])[2]).toBe(Date.parse("2026-01-01T00:00:50.000Z"));
  });

  it("honours a TZ= prefix", async () => {
    let now = new Date("2026-01-15T01:59:00.000Z"); // 02:59 in Paris (UTC+1 in winter)
    const { runner } = track(testRunner(db, [parisNight], { now: () => now }));
    runner.start();
    await runner.drain();
    now = new Date("2026-01-15T01:59:59.000Z");
    await runner.drain();
    expect(seen.tz).toBeUndefined();
    now = new Date("2026-01-15T02:00:01.000Z"); // 03:00:01 in Paris
    await runner.drain();
    expect(seen.tz).toEqual(["TZ=Europe/Paris 0 3 * * *"]);
  });
});
