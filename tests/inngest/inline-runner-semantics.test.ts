import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineFunction } from "@/inngest/define";
import type { EventSentInfo, InlineRunner, StepFinishedInfo } from "@/inngest/inline-runner";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { sleep, testRunner } from "./helpers";

/**
 * The inline runner keeps Inngest's semantics where our code relies on them, and is never kinder:
 * event-id dedupe lasts 24 h (not forever), step outputs are JSON from the first execution on,
 * events over 256 KiB are refused at send, and concurrency counts executing steps (one new step per
 * execution), so runs sharing a key interleave step by step.
 */

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

const HOUR = 60 * 60_000;

const counted = defineFunction({ id: "s-counted", triggers: [{ event: "test/counted" }] }, async ({ event }) => {
  bump("counted");
  record("counted", event.data);
});

describe("event id dedupe", () => {
  it("lasts 24 hours by default: the same id after the window starts the function again", async () => {
    let now = new Date("2026-03-01T10:00:00.000Z");
    const { runner } = track(testRunner(db, [counted], { now: () => now }));
    runner.start();

    const first = await runner.send({ name: "test/counted", id: "evt-1", data: { n: 1 } });
    expect(first.runIds).toHaveLength(1);
    await runner.drain();

    now = new Date(now.getTime() + 24 * HOUR - 1_000); // 23:59:59 later: still a duplicate
    const dup = await runner.send({ name: "test/counted", id: "evt-1", data: { n: 2 } });
    expect(dup).toEqual({ ids: ["evt-1"], runIds: [] });
    await runner.drain();
    expect(calls.counted).toBe(1);

    now = new Date(now.getTime() + 2_000); // 24 h + 1 s after the first: a new event
    const again = await runner.send({ name: "test/counted", id: "evt-1", data: { n: 3 } });
    expect(again.runIds).toHaveLength(1);
    await runner.drain();
    expect(calls.counted).toBe(2);
    expect(seen.counted).toEqual([{ n: 1 }, { n: 3 }]);

    // the window restarts from the event that started the latest run
    now = new Date(now.getTime() + 23 * HOUR);
    expect((await runner.send({ name: "test/counted", id: "evt-1", data: { n: 4 } })).runIds).toEqual([]);
  });

  it("the window is configurable (dedupeWindowMs)", async () => {
    let now = new Date("2026-03-01T10:00:00.000Z");
    const { runner } = track(testRunner(db, [counted], { now: () => now, dedupeWindowMs: 5_000 }));
    expect((await runner.send({ name: "test/counted", id: "e", data: {} })).runIds).toHaveLength(1);
    now = new Date(now.getTime() + 4_999);
    expect((await runner.send({ name: "test/counted", id: "e", data: {} })).runIds).toHaveLength(0);
    now = new Date(now.getTime() + 2);
    expect((await runner.send({ name: "test/counted", id: "e", data: {} })).runIds).toHaveLength(1);
    // an event without an id is never a duplicate
    expect((await runner.send({ name: "test/counted", data: {} })).runIds).toHaveLength(1);
    expect((await runner.listRuns({ functionId: "s-counted" })).length).toBe(3);
  });
});

const jsonOutputs = defineFunction({ id: "s-json", triggers: [{ event: "test/json" }], retries: 0 }, async ({ step }) => {
  const value = await step.run("value", () => {
    bump("value");
    return { at: new Date("2026-01-02T03:04:05.678Z"), gone: undefined, n: 1, list: [1, undefined, "x"], nested: { keep: true, drop: undefined } };
  });
  record("value", value);
  record("types", { at: typeof value.at, hasGone: "gone" in value, hasDrop: "drop" in value.nested });
  const nothing = await step.run("nothing", () => (bump("nothing"), undefined));
  record("nothing", nothing === undefined ? "undefined" : nothing);
  try {
    await step.run("bigint", () => ({ big: BigInt(1) }));
    record("bigint", "returned");
  } catch (e) {
    record("bigint", (e as Error).message);
  }
  return "done";
});

describe("step outputs are JSON", () => {
  it("the handler gets JSON.parse(JSON.stringify(output)) from the step's first (and only) execution", async () => {
    const { runner } = track(testRunner(db, [jsonOutputs]));
    runner.start();
    const { runIds } = await runner.send({ name: "test/json" });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    expect(calls).toEqual({ value: 1, nothing: 1 }); // each body ran once: what the handler saw is its first output
    const expected = { at: "2026-01-02T03:04:05.678Z", n: 1, list: [1, null, "x"], nested: { keep: true } };
    // the handler replays once per execution (value → nothing → bigint → return): every time, and
    // the first time right after the step ran, it got the JSON form
    expect(seen.value).toEqual([expected, expected, expected]);
    for (const v of seen.value as Array<{ nested: object }>) {
      // no undefined keys left at all (toEqual alone would not tell)
      expect(Object.keys(v).sort()).toEqual(["at", "list", "n", "nested"]);
      expect(Object.keys(v.nested)).toEqual(["keep"]);
    }
    expect(seen.types).toEqual(Array(3).fill({ at: "string", hasGone: false, hasDrop: false }));
    expect(seen.nothing).toEqual(["undefined", "undefined"]);
    // an output JSON cannot hold fails the step (retries: 0 → StepError in the handler)
    expect(seen.bigint).toHaveLength(1);
    expect(String(seen.bigint![0])).toMatch(/BigInt/);
    expect(run.steps).toMatchObject({ value: { op: "run", data: expected }, nothing: { op: "run" }, bigint: { op: "run", error: { name: "TypeError" } } });
  });
});

const bigSender = defineFunction({ id: "s-big-sender", triggers: [{ event: "test/big-sender" }], retries: 1 }, async ({ step, event }) => {
  try {
    await step.sendEvent("fan-out", [
      { name: "test/counted", data: { small: true } },
      { name: "test/counted", data: { blob: "x".repeat(Number(event.data.size)) } },
    ]);
    return "sent";
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
});

describe("event size limit", () => {
  it("refuses an event over 256 KiB at send, naming the event and its size; nothing is enqueued", async () => {
    const sent: EventSentInfo[] = [];
    const { runner } = track(testRunner(db, [counted], { onEventSent: (i) => sent.push(i) }));
    const data = { blob: "x".repeat(256 * 1024) };
    const event = { name: "test/counted", id: "big-1", ts: 1_700_000_000_000, data };
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(bytes).toBeGreaterThan(262_144);
    await expect(runner.send([{ name: "test/counted", id: "small-1", data: { n: 1 } }, event])).rejects.toThrow(
      `event "test/counted" (id big-1) is ${bytes} bytes, over the 262144-byte event size limit`,
    );
    expect(await runner.listRuns()).toEqual([]); // not even the small one of the batch
    expect(sent).toEqual([]);

    // just under the limit is accepted
    const fits = { name: "test/counted", id: "fits", ts: 1_700_000_000_000, data: { blob: "" } };
    const overhead = Buffer.byteLength(JSON.stringify(fits));
    fits.data.blob = "y".repeat(262_144 - overhead);
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(262_144);
    expect((await runner.send(fits)).runIds).toHaveLength(1);
    expect(sent).toEqual([{ name: "test/counted", id: "fits", bytes: 262_144 }]);
  });

  it("the limit is configurable (maxEventBytes) and applies to step.sendEvent: the step fails, nothing is sent", async () => {
    const steps: StepFinishedInfo[] = [];
    const { runner } = track(testRunner(db, [bigSender, counted], { maxEventBytes: 1_000, onStepFinished: (i) => steps.push(i) }));
    runner.start();
    const { runIds } = await runner.send({ name: "test/big-sender", data: { size: 2_000 } });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    expect(run.output).toMatch(/^refused: inline runner: event "test\/counted" \(id [0-9a-f-]{36}\) is \d{4} bytes, over the 1000-byte event size limit/);
    expect(await runner.listRuns({ functionId: "s-counted" })).toEqual([]);
    expect(steps.map((s) => [s.stepId, s.op, s.failed])).toEqual([["fan-out", "sendEvent", true]]); // after its 2 attempts (retries: 1)

    const ok = await runner.send({ name: "test/big-sender", data: { size: 10 } });
    expect((await runner.waitForRun(ok.runIds[0]!)).output).toBe("sent");
    await runner.drain();
    expect(calls.counted).toBe(2);
  });
});

const observed = defineFunction({ id: "s-observed", triggers: [{ event: "test/observed" }] }, async ({ step }) => {
  const a = await step.run("a", async () => (await sleep(40), "abc"));
  await step.run("b", () => undefined);
  await step.sendEvent("notify", { name: "test/counted", id: "child-1", ts: 1_700_000_000_123, data: { a } });
  return a;
});

describe("observability hooks", () => {
  it("onStepFinished per recorded step and onEventSent per accepted event (send and step.sendEvent)", async () => {
    const steps: StepFinishedInfo[] = [];
    const sent: EventSentInfo[] = [];
    const { runner } = track(testRunner(db, [observed, counted], { onStepFinished: (i) => steps.push(i), onEventSent: (i) => sent.push(i) }));
    runner.start();
    const { runIds } = await runner.send({ name: "test/observed", id: "parent-1", ts: 1_700_000_000_000, data: { x: 1 } });
    const run = await runner.waitForRun(runIds[0]!);
    expect(run.output).toBe("abc");
    await runner.drain();

    expect(steps.map(({ durationMs: _d, ...rest }) => rest)).toEqual([
      { runId: run.id, functionId: "s-observed", stepId: "a", op: "run", outputBytes: 5, failed: false }, // "abc" → 5 bytes of JSON
      { runId: run.id, functionId: "s-observed", stepId: "b", op: "run", outputBytes: 0, failed: false },
      { runId: run.id, functionId: "s-observed", stepId: "notify", op: "sendEvent", outputBytes: Buffer.byteLength(JSON.stringify({ ids: ["child-1"] })), failed: false },
    ]);
    expect(steps[0]!.durationMs).toBeGreaterThanOrEqual(35);
    expect(steps[0]!.durationMs).toBeLessThan(2_000);

    const parentBytes = Buffer.byteLength(JSON.stringify({ name: "test/observed", data: { x: 1 }, id: "parent-1", ts: 1_700_000_000_000 }));
    const childBytes = Buffer.byteLength(JSON.stringify({ name: "test/counted", data: { a: "abc" }, id: "child-1", ts: 1_700_000_000_123 }));
    expect(sent).toEqual([
      { name: "test/observed", id: "parent-1", bytes: parentBytes },
      { name: "test/counted", id: "child-1", bytes: childBytes },
    ]);
    expect(calls.counted).toBe(1);
  });

  it("a hook that throws is logged and does not break the run", async () => {
    const { runner, log } = track(
      testRunner(db, [observed, counted], {
        onStepFinished: () => {
          throw new Error("hook bug");
        },
      }),
    );
    runner.start();
    const { runIds } = await runner.send({ name: "test/observed" });
    expect((await runner.waitForRun(runIds[0]!)).status).toBe("completed");
    expect(log.lines.filter((l) => l.includes("onStepFinished hook threw: Error: hook bug"))).toHaveLength(3);
  });
});

// Three steps per run; the step body notes which run it belongs to and how many steps of the key overlap.
const stepwise = defineFunction(
  { id: "s-stepwise", triggers: [{ event: "test/stepwise" }], concurrency: { limit: 1, key: "event.data.key" } },
  async ({ event, step }) => {
    const label = String(event.data.label);
    const key = String(event.data.key);
    for (let i = 1; i <= 3; i++) {
      await step.run(`step-${i}`, async () => {
        const active = bump(`active:${key}`) - (calls[`done:${key}`] ?? 0);
        record(`overlap:${key}`, active);
        record(`order:${key}`, `${label}${i}`);
        await sleep(30);
        bump(`done:${key}`);
      });
    }
    record("finished", label);
  },
);

describe("concurrency counts executing steps", () => {
  it("two runs with the same key (limit 1) interleave step by step, never two steps at once", async () => {
    const { runner } = track(testRunner(db, [stepwise]));
    await runner.send([
      { name: "test/stepwise", data: { key: "K", label: "A" } },
      { name: "test/stepwise", data: { key: "K", label: "B" } },
    ]);
    runner.start();
    await runner.drain();
    const order = seen["order:K"] as string[];
    expect(order).toHaveLength(6);
    expect(Math.max(...(seen["overlap:K"] as number[]))).toBe(1);
    // each run's steps in its own order, and the two runs alternate: after every step the slot is
    // released and the other run (queued earlier) takes its turn
    const first = order[0]![0]!;
    const second = first === "A" ? "B" : "A";
    expect(order).toEqual([`${first}1`, `${second}1`, `${first}2`, `${second}2`, `${first}3`, `${second}3`]);
    const runs = await runner.listRuns({ functionId: "s-stepwise" });
    expect(runs.map((r) => [r.status, r.lockedBy, Object.keys(r.steps).sort()])).toEqual(runs.map(() => ["completed", null, ["step-1", "step-2", "step-3"]]));
  });

  it("the step-by-step turns hold across two runners on one database; different keys still run side by side", async () => {
    const a = track(testRunner(db, [stepwise], { workerId: "worker-a" })).runner;
    const b = track(testRunner(db, [stepwise], { workerId: "worker-b" })).runner;
    await a.send([
      { name: "test/stepwise", data: { key: "K", label: "A" } },
      { name: "test/stepwise", data: { key: "K", label: "B" } },
      { name: "test/stepwise", data: { key: "L", label: "C" } },
    ]);
    a.start();
    b.start();
    await a.drain({ timeoutMs: 20_000 });
    await b.drain({ timeoutMs: 20_000 });
    expect((seen.finished as string[]).sort()).toEqual(["A", "B", "C"]);
    expect(Math.max(...(seen["overlap:K"] as number[]))).toBe(1);
    const order = seen["order:K"] as string[];
    expect(order.filter((s) => s.startsWith("A"))).toEqual(["A1", "A2", "A3"]);
    expect(order.filter((s) => s.startsWith("B"))).toEqual(["B1", "B2", "B3"]);
    // interleaved: the second run started before the first finished
    const lastOfFirst = Math.max(order.indexOf(`${order[0]![0]}3`));
    const firstOfOther = order.indexOf(`${order[0]![0] === "A" ? "B" : "A"}1`);
    expect(firstOfOther).toBeLessThan(lastOfFirst);
    expect(seen["order:L"]).toEqual(["C1", "C2", "C3"]);
  });
});
