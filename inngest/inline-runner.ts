import { randomUUID } from "node:crypto";
import { format } from "node:util";
import { and, asc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { CronExpressionParser } from "cron-parser";
import { durationToMs, StepError, type InngestFunction } from "inngest";
import type { Database, Queryable } from "@/db/client";
import { inlineCronMarks, inlineRuns } from "@/db/schema/inline-runs";
import { getInlineDefinition, type InlineHandler } from "./define";

/**
 * The inline runner: runs Inngest function handlers in-process when no Inngest server is configured
 * (development and tests). It keeps Inngest's execution model, durably in the database:
 *
 * - one `inline_runs` row per (event × matching function); cron triggers fire on schedule; an event
 *   id seen within `dedupeWindowMs` (24 h) starts nothing again; an event over `maxEventBytes`
 *   (256 KiB) is refused at send;
 * - a run is executed by calling the handler from the top; finished step results are memoized (as
 *   JSON) in `inline_runs.steps` and replayed, so a step body runs once per successful completion;
 * - one new step per execution, as in Inngest's protocol (one step per request): the handler
 *   replays the memoized steps, the first new step runs and is recorded, the execution ends, the
 *   slot is released and the run is queued again at once. The handler sees a step's result only
 *   from its record (JSON), and runs sharing a concurrency key interleave step by step;
 * - `step.sleep` / `step.sleepUntil` end the execution and re-run the handler at wake time;
 * - errors are retried with exponential backoff up to `retries` (per step, as Inngest counts them),
 *   `NonRetriableError` fails at once, `RetryAfterError` sets the next attempt time;
 * - `concurrency` (limit, key, scope) counts executing steps, across every runner sharing the database;
 * - runs are claimed with a lease, so after a crash another runner picks them up.
 *
 * Production runs a real Inngest server; this is not a replacement for it (see inngest/README.md).
 */

// ---------------------------------------------------------------------------------------------------
// Public types

export type InlineEventPayload = {
  name: string;
  data?: unknown;
  /** Idempotency: a second event with the same id within 24 h (`dedupeWindowMs`) does not start the same function again. */
  id?: string;
  ts?: number;
};

export type InlineEvent = { name: string; data: unknown; id: string; ts: number };

export type InlineRunnerLogger = {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
};

export type InlineRunnerOptions = {
  db: Database;
  /** functions created with `defineFunction` (inngest/define.ts) */
  functions: readonly InngestFunction.Any[];
  /** how often the database is polled for due runs and cron ticks (default 300 ms) */
  pollIntervalMs?: number;
  /** lease on a claimed run; renewed while it executes (default 30 s) */
  leaseMs?: number;
  /** first retry delay; doubles per attempt (default 1 s) */
  retryBaseDelayMs?: number;
  /** cap on the retry delay (default 10 min) */
  retryMaxDelayMs?: number;
  /** runs executing at once in this process (default 16) */
  maxParallelRuns?: number;
  /**
   * After this runner finishes a step of a run, it leaves the run's next step to the other runners
   * on the database for this long before it takes it itself (default 0: it goes on at once). Set
   * above the poll interval, several worker processes take a run's steps in turn, as Inngest sends
   * each step to whichever app instance the load balancer picks.
   */
  stepHandoffMs?: number;
  /** fire cron triggers (default true) */
  cron?: boolean;
  /** clock (tests); defaults to `() => new Date()` */
  now?: () => Date;
  /** runner log lines; `false` silences them (default: console) */
  logger?: InlineRunnerLogger | false;
  /** identifies this runner in `inline_runs.locked_by` (default: random) */
  workerId?: string;
  /**
   * An event sent again with the same id within this window starts no new run (Inngest: 24 h);
   * after it, the same id starts the functions again (default 24 h).
   */
  dedupeWindowMs?: number;
  /** An event whose JSON is larger is refused at send, nothing enqueued (Inngest Cloud's smallest plan: 256 KiB). */
  maxEventBytes?: number;
  /** Tests: called after each step's result is recorded (`step.run` success or final failure, `step.sendEvent`). */
  onStepFinished?: (info: StepFinishedInfo) => void;
  /** Tests: called for each event accepted (by `send` and by `step.sendEvent`), after it is recorded. */
  onEventSent?: (info: EventSentInfo) => void;
};

export type StepFinishedInfo = {
  runId: string;
  functionId: string;
  stepId: string;
  op: "run" | "sendEvent";
  /** wall time of the step body (for sendEvent: of recording the events) */
  durationMs: number;
  /** bytes of the recorded result's JSON (0 when the step returned nothing) */
  outputBytes: number;
  /** the step ran out of retries; its error is what was recorded */
  failed: boolean;
};

export type EventSentInfo = { name: string; id: string; bytes: number };

export const DEFAULT_DEDUPE_WINDOW_MS = 24 * 60 * 60_000;
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

export type InlineRun = typeof inlineRuns.$inferSelect;

export type SendResult = { ids: string[]; runIds: string[] };

/** Events Inngest itself emits. */
export const CRON_EVENT_NAME = "inngest/scheduled.timer";
export const FUNCTION_FAILED_EVENT_NAME = "inngest/function.failed";
/** Inngest names the onFailure handler of function `x` as `x-failure`. */
export const FAILURE_SUFFIX = "-failure";

// ---------------------------------------------------------------------------------------------------
// Internal types

type SerializedError = { name: string; message: string; stack?: string };

type PreparedEvent = { event: InlineEvent; explicitId: boolean; bytes: number };

type StepRecord =
  | { op: "run"; data?: unknown; error?: SerializedError }
  | { op: "sleep"; until: string }
  | { op: "sendEvent"; data?: { ids: string[] }; error?: SerializedError };

type ConcurrencyRule = {
  limit: number;
  scope: "fn" | "env" | "account";
  keyExpression?: string;
  key?: (event: InlineEvent) => unknown;
};

type EventTrigger = { name: string; prefix: boolean; condition?: (event: InlineEvent) => boolean };

type CronSchedule = { expression: string; schedule: string; tz?: string };

type RegisteredFunction = {
  id: string;
  handler: InlineHandler;
  retries: number;
  eventTriggers: EventTrigger[];
  crons: CronSchedule[];
  concurrency: ConcurrencyRule[];
  failureFunctionId?: string;
};

type StepId = string | { id: string; name?: string };

type Outcome =
  | { kind: "completed"; output: unknown }
  /** one new step ran and was recorded: queue the run again at once for the next one */
  | { kind: "step-done" }
  | { kind: "sleep"; until: Date }
  | { kind: "error"; error: unknown; final?: boolean }
  | { kind: "lease-lost" }
  | { kind: "aborted"; reason: string };

const DEFAULT_RETRIES = 3;
const CLAIM_LOCK = sql`select pg_advisory_xact_lock(7240110173)`;
const CANDIDATE_BATCH = 200;

class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`run ${runId}: lease lost to another runner`);
    this.name = "LeaseLostError";
  }
}

// ---------------------------------------------------------------------------------------------------
// The runner

export class InlineRunner {
  readonly workerId: string;
  private readonly db: Database;
  private readonly registry = new Map<string, RegisteredFunction>();
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly maxParallelRuns: number;
  private readonly cronEnabled: boolean;
  private readonly now: () => Date;
  private readonly logger: InlineRunnerLogger | undefined;
  private readonly dedupeWindowMs: number;
  private readonly maxEventBytes: number;
  private readonly onStepFinished: InlineRunnerOptions["onStepFinished"];
  private readonly onEventSent: InlineRunnerOptions["onEventSent"];

  private started = false;
  private stopping = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** ids of the runs executing in this process (never claimed twice, even if a lease lapsed) */
  private readonly executing = new Set<string>();
  /** runs whose last step this runner just ran: left to other runners until the time (epoch ms) */
  private readonly handedOff = new Map<string, number>();
  private readonly stepHandoffMs: number;
  private readonly heartbeats = new Set<ReturnType<typeof setInterval>>();
  /** cron functions: the earliest time a tick can be due (skip the database until then) */
  private readonly cronNextCheck = new Map<string, number>();
  private lastTickError: string | undefined;
  /** executions ended in this process (drain uses it to tell progress from waiting) */
  private executionsFinished = 0;

  constructor(options: InlineRunnerOptions) {
    this.db = options.db;
    this.workerId = options.workerId ?? `inline-${randomUUID()}`;
    this.pollIntervalMs = options.pollIntervalMs ?? 300;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1_000;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 10 * 60_000;
    this.maxParallelRuns = options.maxParallelRuns ?? 16;
    this.stepHandoffMs = options.stepHandoffMs ?? 0;
    this.cronEnabled = options.cron ?? true;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger === false ? undefined : (options.logger ?? consoleLogger);
    this.dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.onStepFinished = options.onStepFinished;
    this.onEventSent = options.onEventSent;
    for (const fn of options.functions) this.register(fn);
  }

  /** Ids of the functions this runner executes (including `<id>-failure` handlers). */
  get functionIds(): string[] {
    return [...this.registry.keys()];
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  // ----- lifecycle --------------------------------------------------------------------------------

  /** Start polling: due runs (including ones interrupted by a crash, once their lease expired) and cron ticks. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.log("info", `started (${this.registry.size} functions, worker ${this.workerId.slice(0, 15)})`);
    this.schedule(0);
  }

  /**
   * Stop polling and wait for executions in progress to finish (their runs are left in a resumable
   * state). With `timeoutMs`, give up waiting after that long: abandoned runs keep their lease until
   * it expires, then any runner picks them up again (as after a crash).
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const settled = (async () => {
      await this.ticking;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    })();
    if (options.timeoutMs === undefined) {
      await settled;
    } else {
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(true), options.timeoutMs))),
      ]);
      clearTimeout(timeout);
      if (timedOut) {
        for (const hb of this.heartbeats) clearInterval(hb);
        this.heartbeats.clear();
        this.log("warn", `stopped with ${this.inFlight.size} execution(s) still in progress (abandoned)`);
      }
    }
    this.started = false;
    this.log("info", "stopped");
  }

  /** Look for due work now instead of at the next poll. */
  kick(): void {
    if (!this.isRunning) return;
    if (this.ticking) this.tickAgain = true;
    else this.schedule(0);
  }

  /**
   * Tests: resolve when no run of this runner's functions is due or executing. Runs sleeping or
   * waiting for a retry in the future do not count unless `includeScheduled` is set.
   */
  async drain(options: { timeoutMs?: number; includeScheduled?: boolean } = {}): Promise<void> {
    if (!this.isRunning) throw new Error("InlineRunner.drain(): the runner is not started");
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const finishedBefore = this.executionsFinished;
      await this.ticking;
      await this.tick();
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      const pending = await this.countPending(options.includeScheduled ?? false);
      if (pending === 0 && this.inFlight.size === 0 && !this.ticking) return;
      if (Date.now() > deadline) throw new Error(`InlineRunner.drain(): timed out with ${pending} run(s) pending`);
      // A run between two steps is due again at once: look again without waiting, unless nothing moved.
      if (this.executionsFinished === finishedBefore) await delay(Math.min(this.pollIntervalMs, 25));
    }
  }

  /** Tests: wait until a run has completed or failed, and return it. */
  async waitForRun(runId: string, options: { timeoutMs?: number } = {}): Promise<InlineRun> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const run = await this.getRun(runId);
      if (!run) throw new Error(`InlineRunner.waitForRun(): no run ${runId}`);
      if (run.status === "completed" || run.status === "failed") return run;
      if (Date.now() > deadline) throw new Error(`InlineRunner.waitForRun(): run ${runId} still ${run.status}`);
      this.kick();
      await delay(Math.min(this.pollIntervalMs, 25));
    }
  }

  async getRun(runId: string): Promise<InlineRun | undefined> {
    const [run] = await this.db.select().from(inlineRuns).where(eq(inlineRuns.id, runId));
    return run;
  }

  async listRuns(filter: { functionId?: string } = {}): Promise<InlineRun[]> {
    return this.db
      .select()
      .from(inlineRuns)
      .where(filter.functionId ? eq(inlineRuns.functionId, filter.functionId) : undefined)
      .orderBy(asc(inlineRuns.createdAt));
  }

  // ----- sending ----------------------------------------------------------------------------------

  /**
   * Record the event(s) and one run per function whose event trigger matches, then look for work.
   * Mirrors `inngest.send()`: returns the event ids (and, for tests, the ids of the runs created).
   */
  async send(payload: InlineEventPayload | readonly InlineEventPayload[]): Promise<SendResult> {
    const events = this.prepareEvents(payload);
    const result = await this.db.transaction((tx) => this.insertEvents(tx, events));
    this.reportSent(events);
    if (result.runIds.length > 0) this.kick();
    return result;
  }

  /**
   * Check every event before anything is recorded (name, reserved prefix, size) and give each its
   * id and timestamp. Throws on the first bad one: nothing of the batch is enqueued.
   * @internal also used by step.sendEvent
   */
  prepareEvents(payload: InlineEventPayload | readonly InlineEventPayload[]): PreparedEvent[] {
    const payloads = Array.isArray(payload) ? (payload as readonly InlineEventPayload[]) : [payload as InlineEventPayload];
    return payloads.map((p) => {
      if (!p || typeof p.name !== "string" || p.name.trim() === "") throw new Error("inline runner: an event needs a name");
      if (p.name.startsWith("inngest/")) throw new Error(`inline runner: "${p.name}": the inngest/ prefix is reserved for Inngest's own events`);
      const event: InlineEvent = { name: p.name, data: p.data ?? {}, id: p.id ?? randomUUID(), ts: p.ts ?? this.now().getTime() };
      const text = JSON.stringify(event);
      const bytes = Buffer.byteLength(text);
      if (bytes > this.maxEventBytes) {
        throw new Error(`inline runner: event "${event.name}" (id ${event.id}) is ${bytes} bytes, over the ${this.maxEventBytes}-byte event size limit; nothing was sent (send row ids, not lists)`);
      }
      // Inngest stores what it received as JSON: a Date in data arrives as a string, undefined vanishes.
      return { event: { ...event, data: JSON.parse(JSON.stringify(event.data ?? {})) as unknown }, explicitId: p.id !== undefined, bytes };
    });
  }

  private async insertEvents(q: Queryable, events: readonly PreparedEvent[]): Promise<SendResult> {
    const ids: string[] = [];
    const runIds: string[] = [];
    // Inngest ignores an event whose id it received within the last 24 h (the window), not forever.
    const windowStart = new Date(this.now().getTime() - this.dedupeWindowMs);
    for (const { event, explicitId } of events) {
      ids.push(event.id);
      const targets = [...this.registry.values()].filter((fn) => fn.eventTriggers.some((t) => triggerMatches(t, event)));
      if (targets.length === 0) continue;
      let already = new Set<string>();
      if (explicitId) {
        const existing = await q
          .select({ functionId: inlineRuns.functionId })
          .from(inlineRuns)
          .where(
            and(
              sql`${inlineRuns.event}->>'id' = ${event.id}`,
              inArray(inlineRuns.functionId, targets.map((t) => t.id)),
              gt(inlineRuns.createdAt, windowStart),
            ),
          );
        already = new Set(existing.map((r) => r.functionId));
      }
      for (const fn of targets) {
        if (already.has(fn.id)) continue;
        runIds.push(await this.insertRun(q, fn, event));
      }
    }
    return { ids, runIds };
  }

  private reportSent(events: readonly PreparedEvent[]): void {
    if (!this.onEventSent) return;
    for (const { event, bytes } of events) this.callHook("onEventSent", () => this.onEventSent?.({ name: event.name, id: event.id, bytes }));
  }

  /** A hook that throws is logged, never allowed to break a run. */
  private callHook(name: string, call: () => void): void {
    try {
      call();
    } catch (e) {
      this.log("error", `${name} hook threw: ${errorMessage(e)}`);
    }
  }

  private async insertRun(q: Queryable, fn: RegisteredFunction, event: InlineEvent, runAt?: Date): Promise<string> {
    const keyed = fn.concurrency.find((r) => r.key);
    const now = this.now();
    const [row] = await q
      .insert(inlineRuns)
      .values({
        functionId: fn.id,
        event,
        concurrencyKey: keyed?.key ? keyString(keyed.key(event)) : null,
        status: "queued",
        runAt: runAt ?? now,
        createdAt: now,
        updatedAt: now,
      })
      .returning({ id: inlineRuns.id });
    if (!row) throw new Error("inline runner: insert returned no row");
    return row.id;
  }

  // ----- registration -----------------------------------------------------------------------------

  private register(fn: InngestFunction.Any): void {
    const definition = getInlineDefinition(fn);
    if (!definition) {
      throw new Error(`inline runner: function "${fn.id()}" was not created with defineFunction() (inngest/define.ts), so its handler cannot be run inline`);
    }
    const { options } = definition;
    const id = options.id;
    if (this.registry.has(id)) throw new Error(`inline runner: duplicate function id "${id}"`);
    const triggers = (fn.opts.triggers ?? []) as InngestFunction.Trigger<string>[];
    const eventTriggers: EventTrigger[] = [];
    const crons: CronSchedule[] = [];
    for (const trigger of triggers) {
      if (typeof trigger.cron === "string") {
        crons.push(parseCronTrigger(id, trigger.cron));
      } else if (trigger.event !== undefined) {
        const name = typeof trigger.event === "string" ? trigger.event : trigger.event.name;
        const prefix = name.endsWith("*");
        eventTriggers.push({
          name: prefix ? name.slice(0, -1) : name,
          prefix,
          condition: trigger.if ? compileCondition(trigger.if, `trigger "if" of function "${id}"`) : undefined,
        });
      }
    }
    const retries = options.retries ?? DEFAULT_RETRIES;
    const unsupported = (["throttle", "rateLimit", "debounce", "batchEvents", "idempotency", "singleton", "cancelOn", "priority", "timeouts"] as const).filter(
      (k) => options[k] !== undefined,
    );
    if (unsupported.length > 0) this.log("warn", `${id}: ${unsupported.join(", ")} not simulated in inline mode`);
    const failureFunctionId = definition.onFailure ? `${id}${FAILURE_SUFFIX}` : undefined;
    this.registry.set(id, {
      id,
      handler: definition.handler,
      retries,
      eventTriggers,
      crons,
      concurrency: compileConcurrency(options.concurrency, id),
      failureFunctionId,
    });
    if (definition.onFailure && failureFunctionId) {
      this.registry.set(failureFunctionId, {
        id: failureFunctionId,
        handler: definition.onFailure,
        retries,
        eventTriggers: [],
        crons: [],
        concurrency: [],
      });
    }
  }

  // ----- poll loop --------------------------------------------------------------------------------

  private schedule(delayMs: number): void {
    if (!this.isRunning) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
    this.timer.unref?.();
  }

  /** One poll: cron ticks, then claim due runs and start executing them (not awaited). */
  private tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    if (!this.isRunning) return Promise.resolve();
    this.ticking = this.poll();
    return this.ticking;
  }

  private async poll(): Promise<void> {
    try {
      if (this.cronEnabled) await this.cronTick();
      await this.claimAndExecute();
      this.lastTickError = undefined;
    } catch (e) {
      const message = errorMessage(e);
      // once per distinct error, not every poll
      if (message !== this.lastTickError) this.log("error", `poll failed: ${message}`);
      this.lastTickError = message;
    } finally {
      this.ticking = undefined;
      const again = this.tickAgain;
      this.tickAgain = false;
      this.schedule(again ? 0 : this.pollIntervalMs);
    }
  }

  private async countPending(includeScheduled: boolean): Promise<number> {
    const now = this.now();
    const ids = this.functionIds;
    if (ids.length === 0) return 0;
    const rows = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(inlineRuns)
      .where(
        and(
          inArray(inlineRuns.functionId, ids),
          includeScheduled
            ? inArray(inlineRuns.status, ["queued", "running"])
            : or(eq(inlineRuns.status, "running"), and(eq(inlineRuns.status, "queued"), lte(inlineRuns.runAt, now))),
        ),
      );
    return Number(rows[0]?.n ?? 0);
  }

  // ----- cron -------------------------------------------------------------------------------------

  private async cronTick(): Promise<void> {
    const now = this.now();
    for (const fn of this.registry.values()) {
      if (fn.crons.length === 0) continue;
      const nextCheck = this.cronNextCheck.get(fn.id);
      if (nextCheck !== undefined && now.getTime() < nextCheck) continue;

      const [mark] = await this.db.select().from(inlineCronMarks).where(eq(inlineCronMarks.functionId, fn.id));
      if (!mark) {
        // First start: nothing is overdue yet; the first tick is the next one after now.
        await this.db.insert(inlineCronMarks).values({ functionId: fn.id, lastFiredAt: now }).onConflictDoNothing();
        this.cronNextCheck.set(fn.id, nextCronTick(fn.crons, now).getTime());
        continue;
      }
      // The latest tick of each schedule that is due (<= now) and after the last one fired. Ticks
      // missed while nothing ran (e.g. the app was down) coalesce into one run per schedule.
      const due = fn.crons
        .map((c) => ({ cron: c, tick: latestCronTick(c, now) }))
        .filter((d): d is { cron: CronSchedule; tick: Date } => d.tick !== undefined && d.tick.getTime() > mark.lastFiredAt.getTime());
      if (due.length > 0) {
        const newMark = new Date(Math.max(...due.map((d) => d.tick.getTime())));
        const fired = await this.db.transaction(async (tx) => {
          // compare-and-set: only one runner fires a given tick
          const claimed = await tx
            .update(inlineCronMarks)
            .set({ lastFiredAt: newMark })
            .where(and(eq(inlineCronMarks.functionId, fn.id), lt(inlineCronMarks.lastFiredAt, newMark)))
            .returning({ functionId: inlineCronMarks.functionId });
          if (claimed.length === 0) return false;
          for (const d of due) {
            const event: InlineEvent = {
              name: CRON_EVENT_NAME,
              data: { cron: d.cron.expression },
              id: `cron:${fn.id}:${d.tick.toISOString()}`,
              ts: d.tick.getTime(),
            };
            await this.insertRun(tx, fn, event);
          }
          return true;
        });
        if (fired) this.log("info", `${fn.id}: cron tick ${newMark.toISOString()}`);
      }
      this.cronNextCheck.set(fn.id, nextCronTick(fn.crons, now).getTime());
    }
  }

  // ----- claiming ---------------------------------------------------------------------------------

  private async claimAndExecute(): Promise<void> {
    const capacity = this.maxParallelRuns - this.inFlight.size;
    if (capacity <= 0) return;
    const claimed = await this.claim(capacity);
    for (const run of claimed) {
      this.executing.add(run.id);
      const execution = this.execute(run).finally(() => {
        this.executionsFinished++;
        this.executing.delete(run.id);
        this.inFlight.delete(execution);
        this.kick();
      });
      this.inFlight.add(execution);
    }
  }

  /**
   * Claim up to `capacity` due runs, honouring each function's concurrency limits against the runs
   * currently executing (leased) in any runner. Claims are serialized by an advisory lock so two
   * runners cannot both take the last slot of a concurrency key.
   */
  private async claim(capacity: number): Promise<InlineRun[]> {
    const ids = this.functionIds;
    if (ids.length === 0) return [];
    const now = this.now();
    const due = and(
      inArray(inlineRuns.functionId, ids),
      inArray(inlineRuns.status, ["queued", "running"]),
      lte(inlineRuns.runAt, now),
      or(isNull(inlineRuns.lockedUntil), lte(inlineRuns.lockedUntil, now)),
    );
    // Cheap look first (no transaction, no lock): most polls find nothing to do.
    const [any] = await this.db.select({ id: inlineRuns.id }).from(inlineRuns).where(due).limit(1);
    if (!any) return [];
    return this.db.transaction(async (tx) => {
      await tx.execute(CLAIM_LOCK);
      const candidates = (
        await tx
          .select()
          .from(inlineRuns)
          .where(due)
          .orderBy(asc(inlineRuns.runAt), asc(inlineRuns.createdAt))
          .limit(CANDIDATE_BATCH)
          .for("update", { skipLocked: true })
      ).filter((run) => !this.executing.has(run.id) && !this.isHandedOff(run.id));
      if (candidates.length === 0) return [];

      const active = await tx
        .select({ functionId: inlineRuns.functionId, event: inlineRuns.event })
        .from(inlineRuns)
        .where(and(eq(inlineRuns.status, "running"), gt(inlineRuns.lockedUntil, now)));
      const counts = new Map<string, number>();
      for (const run of active) {
        for (const g of this.concurrencyGroups(run.functionId, run.event as InlineEvent)) counts.set(g.group, (counts.get(g.group) ?? 0) + 1);
      }
      const chosen: InlineRun[] = [];
      for (const run of candidates) {
        if (chosen.length >= capacity) break;
        const groups = this.concurrencyGroups(run.functionId, run.event as InlineEvent);
        if (groups.some((g) => (counts.get(g.group) ?? 0) >= g.limit)) continue;
        for (const g of groups) counts.set(g.group, (counts.get(g.group) ?? 0) + 1);
        chosen.push(run);
      }
      if (chosen.length === 0) return [];
      const lockedUntil = new Date(now.getTime() + this.leaseMs);
      await tx
        .update(inlineRuns)
        .set({ status: "running", lockedBy: this.workerId, lockedUntil, updatedAt: now })
        .where(inArray(inlineRuns.id, chosen.map((r) => r.id)));
      for (const run of chosen) {
        if (run.status === "running") this.log("warn", `${run.functionId} run ${short(run.id)}: resuming after its runner stopped`);
      }
      return chosen.map((r) => ({ ...r, status: "running" as const, lockedBy: this.workerId, lockedUntil }));
    });
  }

  private isHandedOff(runId: string): boolean {
    const until = this.handedOff.get(runId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.handedOff.delete(runId);
    return false;
  }

  private concurrencyGroups(functionId: string, event: InlineEvent): Array<{ group: string; limit: number }> {
    const fn = this.registry.get(functionId);
    if (!fn) return [];
    return fn.concurrency.map((rule) => {
      const key = rule.key ? keyString(rule.key(event)) : "";
      const group = rule.scope === "fn" ? `fn\u0000${fn.id}\u0000${rule.keyExpression ?? ""}\u0000${key}` : `${rule.scope}\u0000${key}`;
      return { group, limit: rule.limit };
    });
  }

  // ----- execution --------------------------------------------------------------------------------

  private async execute(run: InlineRun): Promise<void> {
    const fn = this.registry.get(run.functionId);
    if (!fn) return;
    const started = Date.now();
    const execution = new Execution(this, run);
    const heartbeat = setInterval(() => void this.renewLease(execution), Math.max(50, Math.floor(this.leaseMs / 3)));
    heartbeat.unref?.();
    this.heartbeats.add(heartbeat);
    try {
      const outcome = await this.runHandler(fn, execution);
      await this.finish(fn, execution, outcome, Date.now() - started);
    } catch (e) {
      // A database failure while recording the outcome: the lease expires and the run is retried.
      this.log("error", `${fn.id} run ${short(run.id)}: could not record the outcome: ${errorMessage(e)}`);
    } finally {
      clearInterval(heartbeat);
      this.heartbeats.delete(heartbeat);
    }
  }

  private async renewLease(execution: Execution): Promise<void> {
    try {
      const rows = await this.db
        .update(inlineRuns)
        .set({ lockedUntil: new Date(this.now().getTime() + this.leaseMs) })
        .where(and(eq(inlineRuns.id, execution.run.id), eq(inlineRuns.lockedBy, this.workerId), eq(inlineRuns.status, "running")))
        .returning({ id: inlineRuns.id });
      if (rows.length === 0) execution.interrupt({ kind: "lease-lost" });
    } catch {
      // transient; the next heartbeat tries again
    }
  }

  private async runHandler(fn: RegisteredFunction, execution: Execution): Promise<Outcome> {
    const { run } = execution;
    const event = run.event as InlineEvent;
    const ctx: Record<string, unknown> = {
      event,
      events: [event],
      step: execution.stepTools(),
      runId: run.id,
      attempt: run.attempt,
      maxAttempts: fn.retries + 1,
      logger: this.handlerLogger(fn.id, run.id),
    };
    if (event.name === FUNCTION_FAILED_EVENT_NAME && fn.id.endsWith(FAILURE_SUFFIX)) {
      ctx.error = deserializeError((event.data as { error?: SerializedError }).error);
    }
    const handler = fn.handler as unknown as (ctx: Record<string, unknown>) => unknown;
    const result = Promise.resolve()
      .then(() => handler(ctx))
      .then(
        (output): Outcome => ({ kind: "completed", output }),
        (error: unknown): Outcome => ({ kind: "error", error, final: execution.isStepFailure(error) }),
      );
    const outcome = await Promise.race([result, execution.interrupted]);
    // Steps started in parallel finish (and are recorded) before the execution ends.
    await execution.settle();
    return execution.interruption ?? outcome;
  }

  private async finish(fn: RegisteredFunction, execution: Execution, outcome: Outcome, elapsedMs: number): Promise<void> {
    const { run } = execution;
    const now = this.now();
    const mine = and(eq(inlineRuns.id, run.id), eq(inlineRuns.lockedBy, this.workerId), eq(inlineRuns.status, "running"));
    const release = { lockedBy: null, lockedUntil: null, updatedAt: now };
    const label = `${fn.id} run ${short(run.id)}`;

    switch (outcome.kind) {
      case "lease-lost":
        this.log("warn", `${label}: lease lost; another runner owns it now`);
        return;
      case "aborted":
        // Could not record a step: hand the run back (it resumes from what was recorded).
        this.log("error", `${label}: execution aborted: ${outcome.reason}`);
        await this.db
          .update(inlineRuns)
          .set({ ...release, status: "queued", runAt: new Date(now.getTime() + this.backoff(0)) })
          .where(mine);
        return;
      case "step-done":
        // The slot is released between steps (Inngest counts executing steps, not runs in
        // progress): another run with the same concurrency key may take the next turn.
        await this.db
          .update(inlineRuns)
          .set({ ...release, status: "queued", runAt: now })
          .where(mine);
        if (this.stepHandoffMs > 0) {
          this.handedOff.set(run.id, Date.now() + this.stepHandoffMs);
          // take it back if no other runner did
          setTimeout(() => this.kick(), this.stepHandoffMs + 1).unref?.();
        }
        return;
      case "completed":
        await this.db
          .update(inlineRuns)
          .set({ ...release, status: "completed", output: toJson(outcome.output) ?? null, lastError: null })
          .where(mine);
        this.log("info", `${label}: completed in ${Math.max(0, now.getTime() - run.createdAt.getTime())} ms (last execution ${elapsedMs} ms)`);
        return;
      case "sleep":
        await this.db
          .update(inlineRuns)
          .set({ ...release, status: "queued", runAt: outcome.until })
          .where(mine);
        this.log("info", `${label}: sleeping until ${outcome.until.toISOString()}`);
        return;
      case "error": {
        const error = outcome.error;
        const message = errorMessage(error);
        const attempt = execution.attempt;
        if (outcome.final || isNonRetriable(error) || attempt >= fn.retries) {
          await this.db.transaction(async (tx) => {
            const rows = await tx
              .update(inlineRuns)
              .set({ ...release, status: "failed", lastError: message })
              .where(mine)
              .returning({ id: inlineRuns.id });
            const failureFn = fn.failureFunctionId ? this.registry.get(fn.failureFunctionId) : undefined;
            if (rows.length > 0 && failureFn) {
              await this.insertRun(tx, failureFn, {
                name: FUNCTION_FAILED_EVENT_NAME,
                data: { function_id: fn.id, run_id: run.id, error: serializeError(error), event: run.event },
                id: randomUUID(),
                ts: now.getTime(),
              });
            }
          });
          const why = isNonRetriable(error) ? "non-retriable error" : outcome.final ? "step failed" : `after ${attempt + 1} attempt(s)`;
          this.log("error", `${label}: failed (${why}): ${message}`);
          if (fn.failureFunctionId) this.kick();
          return;
        }
        const retryAt = retryAfterDate(error, now) ?? new Date(now.getTime() + this.backoff(attempt));
        await this.db
          .update(inlineRuns)
          .set({ ...release, status: "queued", attempt: attempt + 1, runAt: retryAt, lastError: message })
          .where(mine);
        this.log("warn", `${label}: attempt ${attempt + 1}/${fn.retries + 1} failed: ${message}; retry at ${retryAt.toISOString()}`);
        return;
      }
    }
  }

  private backoff(attempt: number): number {
    return Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** attempt);
  }

  // ----- used by Execution ------------------------------------------------------------------------

  /** @internal record a finished step (only while this runner holds the run's lease) */
  async persistStep(execution: Execution, stepId: string, record: StepRecord, options: { resetAttempt?: boolean; q?: Queryable } = {}): Promise<void> {
    const q = options.q ?? this.db;
    const rows = await q
      .update(inlineRuns)
      .set({
        steps: sql`${inlineRuns.steps} || ${JSON.stringify({ [stepId]: record })}::jsonb`,
        updatedAt: this.now(),
        ...(options.resetAttempt ? { attempt: 0 } : {}),
      })
      .where(and(eq(inlineRuns.id, execution.run.id), eq(inlineRuns.lockedBy, this.workerId), eq(inlineRuns.status, "running")))
      .returning({ id: inlineRuns.id });
    if (rows.length === 0) throw new LeaseLostError(execution.run.id);
  }

  /** @internal step.sendEvent: the events and the step's memo are written in one transaction */
  async sendFromStep(execution: Execution, stepId: string, events: readonly PreparedEvent[], options: { resetAttempt?: boolean } = {}): Promise<{ ids: string[] }> {
    const result = await this.db.transaction(async (tx) => {
      const sent = await this.insertEvents(tx, events);
      await this.persistStep(execution, stepId, { op: "sendEvent", data: { ids: sent.ids } }, { q: tx, resetAttempt: options.resetAttempt });
      return sent;
    });
    this.reportSent(events);
    if (result.runIds.length > 0) this.kick();
    return { ids: result.ids };
  }

  /** @internal */
  stepFinished(execution: Execution, info: Omit<StepFinishedInfo, "runId" | "functionId">): void {
    if (!this.onStepFinished) return;
    const { run } = execution;
    this.callHook("onStepFinished", () => this.onStepFinished?.({ runId: run.id, functionId: run.functionId, ...info }));
  }

  /** @internal */
  currentTime(): Date {
    return this.now();
  }

  /** @internal */
  retriesOf(functionId: string): number {
    return this.registry.get(functionId)?.retries ?? DEFAULT_RETRIES;
  }

  private handlerLogger(functionId: string, runId: string) {
    const write = (level: keyof InlineRunnerLogger) => (...args: unknown[]) => this.log(level, `${functionId} run ${short(runId)}: ${format(...args)}`);
    return { info: write("info"), warn: write("warn"), error: write("error"), debug: write("info") };
  }

  private log(level: keyof InlineRunnerLogger, message: string): void {
    this.logger?.[level](`[inngest:inline] ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// One execution of one run: the step tools and the memo state.

/** Returned by step work that ended the execution (sleep, retry, lease lost). */
const INTERRUPTED: unique symbol = Symbol("interrupted");
type Interrupted = typeof INTERRUPTED;

class Execution {
  /** set when the execution must end early (a step was run, sleep, retry, lease lost) */
  interruption: Outcome | undefined;
  readonly interrupted: Promise<Outcome>;
  /** the run's current attempt; back to 0 after a step succeeds (Inngest counts attempts per step) */
  attempt: number;
  /** the one new step of this execution has been started (Inngest: one step per request) */
  private stepTaken = false;
  private resolveInterrupted!: (outcome: Outcome) => void;
  private readonly steps: Record<string, StepRecord>;
  private readonly seenIds = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stepFailures = new WeakSet<object>();

  constructor(
    private readonly runner: InlineRunner,
    readonly run: InlineRun,
  ) {
    this.steps = { ...(run.steps as Record<string, StepRecord>) };
    this.attempt = run.attempt;
    this.interrupted = new Promise<Outcome>((resolve) => (this.resolveInterrupted = resolve));
  }

  /** End this execution with `outcome` (the first one wins); whatever the handler does next is ignored. */
  interrupt(outcome: Outcome): Interrupted {
    if (!this.interruption) {
      this.interruption = outcome;
      this.resolveInterrupted(outcome);
    }
    return INTERRUPTED;
  }

  isStepFailure(error: unknown): boolean {
    return typeof error === "object" && error !== null && this.stepFailures.has(error);
  }

  /** Wait for step work in progress to finish and be recorded. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * A step that is not memoized wants to start. As in Inngest's protocol, an execution runs at most
   * one new step: the first one found runs, and any other (e.g. the rest of a `Promise.all`) waits
   * for a later execution, which finds it again after replaying the memoized steps.
   */
  private takeStep(): boolean {
    if (this.interruption || this.stepTaken) return false;
    this.stepTaken = true;
    return true;
  }

  /** The step is recorded: this execution ends; the run is queued again for its next step. */
  private stepDone(): Interrupted {
    return this.interrupt({ kind: "step-done" });
  }

  stepTools() {
    const tools = {
      run: (idOrOptions: StepId, fn: (...args: unknown[]) => unknown, ...args: unknown[]): Promise<unknown> => {
        const id = this.stepId(idOrOptions);
        if (this.interruption) return never();
        const memo = this.memo(id, "run");
        if (memo) {
          if (memo.error) return Promise.reject(this.stepError(id, memo.error));
          return Promise.resolve(memo.data);
        }
        if (!this.takeStep()) return never();
        return this.track(this.executeStep(id, fn, args));
      },

      sleep: (idOrOptions: StepId, duration: unknown): Promise<void> => {
        const id = this.stepId(idOrOptions);
        if (this.interruption) return never();
        const memo = this.memo(id, "sleep");
        if (memo) return this.resolveOrStop(this.sleepUntil(new Date(memo.until)));
        // Inngest rounds sub-second sleeps up to one second.
        const ms = Math.max(1_000, durationToMs(duration, { name: `step.sleep("${id}")` }));
        if (!this.takeStep()) return never();
        return this.track(this.startSleep(id, new Date(this.runner.currentTime().getTime() + ms)));
      },

      sleepUntil: (idOrOptions: StepId, time: unknown): Promise<void> => {
        const id = this.stepId(idOrOptions);
        if (this.interruption) return never();
        const memo = this.memo(id, "sleep");
        if (memo) return this.resolveOrStop(this.sleepUntil(new Date(memo.until)));
        const until = toDate(time, `step.sleepUntil("${id}")`);
        if (!this.takeStep()) return never();
        return this.track(this.startSleep(id, until));
      },

      sendEvent: (idOrOptions: StepId, payload: InlineEventPayload | InlineEventPayload[]): Promise<{ ids: string[] }> => {
        const id = this.stepId(idOrOptions);
        if (this.interruption) return never();
        const memo = this.memo(id, "sendEvent");
        if (memo) return memo.error ? Promise.reject(this.stepError(id, memo.error)) : Promise.resolve(memo.data ?? { ids: [] });
        if (!this.takeStep()) return never();
        return this.track(this.executeSendEvent(id, payload));
      },
    };
    return new Proxy(tools, {
      get(target, property, receiver) {
        if (typeof property === "symbol" || property in target || property === "then") return Reflect.get(target, property, receiver);
        return () => {
          throw new Error(`step.${property}() is not supported by the inline runner; run an Inngest server (see inngest/README.md)`);
        };
      },
    });
  }

  // Inngest: the first use of an id is the id itself, repeats get ":1", ":2", ...
  private stepId(idOrOptions: StepId): string {
    const base = typeof idOrOptions === "string" ? idOrOptions : idOrOptions?.id;
    if (typeof base !== "string" || base === "") throw new Error("inline runner: a step needs an id");
    const seen = this.seenIds.get(base) ?? 0;
    this.seenIds.set(base, seen + 1);
    return seen === 0 ? base : `${base}:${seen}`;
  }

  private memo<K extends StepRecord["op"]>(id: string, op: K): Extract<StepRecord, { op: K }> | undefined {
    const memo = this.steps[id];
    if (!memo) return undefined;
    if (memo.op !== op) {
      throw new Error(`inline runner: step "${id}" was a ${memo.op} step in an earlier execution and is a ${op} step now; step ids must be deterministic`);
    }
    return memo as Extract<StepRecord, { op: K }>;
  }

  private async executeStep(id: string, fn: (...args: unknown[]) => unknown, args: unknown[]): Promise<never | Interrupted> {
    const started = Date.now();
    let data: unknown;
    try {
      // The output is stored as JSON and the handler only ever sees it back from the record (in the
      // next execution), exactly as with Inngest: a Date becomes a string, undefined fields vanish.
      // An output JSON cannot hold (BigInt, a cycle) fails the step.
      data = toJson(await fn(...args));
    } catch (error) {
      if (this.interruption) return INTERRUPTED;
      return this.stepFailed(id, "run", error, started);
    }
    const record: StepRecord = data === undefined ? { op: "run" } : { op: "run", data };
    const written = await this.guard(() => this.runner.persistStep(this, id, record, { resetAttempt: this.attempt > 0 }));
    if (written === INTERRUPTED) return INTERRUPTED;
    this.steps[id] = record;
    this.runner.stepFinished(this, { stepId: id, op: "run", durationMs: Date.now() - started, outputBytes: jsonBytes(data), failed: false });
    return this.stepDone();
  }

  private async executeSendEvent(id: string, payload: InlineEventPayload | InlineEventPayload[]): Promise<never | Interrupted> {
    const started = Date.now();
    let result: { ids: string[] } | Interrupted;
    try {
      // An invalid or oversized event fails the step (as the event API's refusal fails it in Inngest).
      const events = this.runner.prepareEvents(payload);
      result = await this.guard(() => this.runner.sendFromStep(this, id, events, { resetAttempt: this.attempt > 0 }));
    } catch (error) {
      if (this.interruption) return INTERRUPTED;
      return this.stepFailed(id, "sendEvent", error, started);
    }
    if (result === INTERRUPTED) return INTERRUPTED;
    this.steps[id] = { op: "sendEvent", data: result };
    this.runner.stepFinished(this, { stepId: id, op: "sendEvent", durationMs: Date.now() - started, outputBytes: jsonBytes(result), failed: false });
    return this.stepDone();
  }

  /**
   * A step threw. With retries left, this execution ends and the step is retried in a later one
   * (as with Inngest). Out of retries, the failure is recorded; the next execution throws it into
   * the handler as a StepError (which the handler may catch).
   */
  private async stepFailed(id: string, op: "run" | "sendEvent", error: unknown, started: number): Promise<Interrupted> {
    if (!isNonRetriable(error) && this.attempt < this.runner.retriesOf(this.run.functionId)) {
      return this.interrupt({ kind: "error", error });
    }
    const serialized = serializeError(error);
    const record: StepRecord = { op, error: serialized };
    const written = await this.guard(() => this.runner.persistStep(this, id, record));
    if (written === INTERRUPTED) return INTERRUPTED;
    this.steps[id] = record;
    this.runner.stepFinished(this, { stepId: id, op, durationMs: Date.now() - started, outputBytes: jsonBytes(serialized), failed: true });
    return this.stepDone();
  }

  private async startSleep(id: string, until: Date): Promise<never | Interrupted> {
    const written = await this.guard(() => this.runner.persistStep(this, id, { op: "sleep", until: until.toISOString() }));
    if (written === INTERRUPTED) return INTERRUPTED;
    this.steps[id] = { op: "sleep", until: until.toISOString() };
    // Recording the sleep is this execution's step; the run wakes (and resumes) at `until`.
    return this.sleepUntil(until) ?? this.stepDone();
  }

  private sleepUntil(until: Date): void | Interrupted {
    if (this.runner.currentTime().getTime() >= until.getTime()) return;
    return this.interrupt({ kind: "sleep", until });
  }

  private resolveOrStop<T>(value: T | Interrupted): Promise<T> {
    return value === INTERRUPTED ? never() : Promise.resolve(value);
  }

  private stepError(id: string, serialized: SerializedError): StepError {
    const error = new StepError(id, serialized);
    this.stepFailures.add(error);
    return error;
  }

  /**
   * Run a database write. A lost lease, or a database error (not the step's fault), ends the
   * execution; the run is resumed later from what was recorded.
   */
  private async guard<T>(write: () => Promise<T>): Promise<T | Interrupted> {
    try {
      return await write();
    } catch (error) {
      return this.interrupt(error instanceof LeaseLostError ? { kind: "lease-lost" } : { kind: "aborted", reason: errorMessage(error) });
    }
  }

  /**
   * Step work is tracked until it settles (so the execution ends only after it is recorded); the
   * handler gets a promise that never settles: the step's result reaches the handler in the next
   * execution, from its record, as in Inngest.
   */
  private track<T>(work: Promise<Interrupted>): Promise<T> {
    const settled = work.then(noop, noop);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return work.then(() => never());
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

const consoleLogger: InlineRunnerLogger = {
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

function noop() {}

/** A promise that never settles: how an Inngest execution "stops" at a step it cannot pass. */
function never(): Promise<never> {
  return new Promise<never>(() => {});
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function short(id: string): string {
  return id.slice(0, 8);
}

function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}

function toJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/** `Name: message`, short, without the query parameters drizzle puts in its messages (they can hold event data). */
function errorMessage(error: unknown): string {
  let text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const params = text.indexOf("\nparams:");
  if (params >= 0) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
    text = `${text.slice(0, params)}${cause}`;
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: "Error", message: String(error) };
}

function deserializeError(serialized: SerializedError | undefined): Error {
  const error = new Error(serialized?.message ?? "unknown error");
  error.name = serialized?.name ?? "Error";
  if (serialized?.stack) error.stack = serialized.stack;
  return error;
}

function isNonRetriable(error: unknown): boolean {
  return error instanceof Error && error.name === "NonRetriableError";
}

/** `RetryAfterError.retryAfter` is a number of seconds or an ISO date. */
function retryAfterDate(error: unknown, now: Date): Date | undefined {
  if (!(error instanceof Error) || error.name !== "RetryAfterError") return undefined;
  const retryAfter = (error as Error & { retryAfter?: unknown }).retryAfter;
  if (typeof retryAfter !== "string" && typeof retryAfter !== "number") return undefined;
  if (/^\d+$/.test(String(retryAfter))) return new Date(now.getTime() + Number(retryAfter) * 1000);
  const at = Date.parse(String(retryAfter));
  return Number.isNaN(at) ? undefined : new Date(at);
}

function toDate(time: unknown, what: string): Date {
  let date: Date | undefined;
  if (time instanceof Date) date = new Date(time.getTime());
  else if (typeof time === "string" || typeof time === "number") date = new Date(time);
  else if (time && typeof time === "object" && "epochMilliseconds" in time) date = new Date(Number((time as { epochMilliseconds: unknown }).epochMilliseconds));
  if (!date || Number.isNaN(date.getTime())) throw new Error(`${what}: not a valid date`);
  return date;
}

function keyString(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function triggerMatches(trigger: EventTrigger, event: InlineEvent): boolean {
  const nameMatches = trigger.prefix ? event.name.startsWith(trigger.name) : event.name === trigger.name;
  return nameMatches && (!trigger.condition || trigger.condition(event));
}

// ----- expressions (a small subset of Inngest's CEL) ------------------------------------------------

/** `event.data.a.b` (also `event.name`, `event.id`) → getter; anything else is unsupported. */
export function compilePath(expression: string): ((event: InlineEvent) => unknown) | undefined {
  const match = /^event((?:\.[A-Za-z_$][\w$]*)+)$/.exec(expression.trim());
  if (!match?.[1]) return undefined;
  const parts = match[1].slice(1).split(".");
  return (event) =>
    parts.reduce<unknown>((value, part) => (value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined), event);
}

/** `path == literal` / `path != literal`, joined by `&&`. */
function compileCondition(expression: string, what: string): (event: InlineEvent) => boolean {
  const clauses = expression.split("&&").map((clause) => {
    const match = /^\s*(event(?:\.[A-Za-z_$][\w$]*)+)\s*(==|!=)\s*(.+?)\s*$/.exec(clause);
    const getter = match?.[1] ? compilePath(match[1]) : undefined;
    const literal = match?.[3] !== undefined ? parseLiteral(match[3]) : { ok: false as const };
    if (!match || !getter || !literal.ok) {
      throw new Error(`inline runner: ${what}: unsupported expression "${expression}" (supported: event.data.x == 'literal', joined by &&)`);
    }
    const equal = match[2] === "==";
    return (event: InlineEvent) => (getter(event) === literal.value) === equal;
  });
  return (event) => clauses.every((clause) => clause(event));
}

function parseLiteral(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (/^'[^']*'$/.test(t) || /^"[^"]*"$/.test(t)) return { ok: true, value: t.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { ok: true, value: Number(t) };
  if (t === "true" || t === "false") return { ok: true, value: t === "true" };
  if (t === "null") return { ok: true, value: null };
  return { ok: false };
}

function compileConcurrency(option: InngestFunction.Options["concurrency"], functionId: string): ConcurrencyRule[] {
  if (option === undefined) return [];
  const list = typeof option === "number" ? [{ limit: option }] : Array.isArray(option) ? option : [option];
  return list
    .filter((rule) => rule.limit > 0) // 0 = no limit (Inngest: "the maximum available concurrency")
    .map((rule) => {
      const scope = rule.scope ?? "fn";
      if (rule.key === undefined) return { limit: rule.limit, scope };
      const key = compilePath(rule.key);
      if (!key) {
        throw new Error(`inline runner: function "${functionId}": unsupported concurrency key "${rule.key}" (supported: event.data.a.b paths)`);
      }
      return { limit: rule.limit, scope, keyExpression: rule.key, key };
    });
}

// ----- cron -------------------------------------------------------------------------------------

/** `"0 3 * * *"` or `"TZ=Europe/Paris 0 3 * * *"` (also `CRON_TZ=`). */
function parseCronTrigger(functionId: string, expression: string): CronSchedule {
  const match = /^\s*(?:CRON_TZ|TZ)=(\S+)\s+(.+)$/.exec(expression);
  const schedule = (match?.[2] ?? expression).trim();
  const tz = match?.[1];
  try {
    CronExpressionParser.parse(schedule, { tz });
  } catch (e) {
    throw new Error(`inline runner: function "${functionId}": invalid cron "${expression}": ${errorMessage(e)}`);
  }
  return { expression, schedule, tz };
}

/** The latest tick at or before `now`. */
function latestCronTick(cron: CronSchedule, now: Date): Date | undefined {
  try {
    return CronExpressionParser.parse(cron.schedule, { tz: cron.tz, currentDate: new Date(now.getTime() + 1) })
      .prev()
      .toDate();
  } catch {
    return undefined;
  }
}

/** The earliest tick after `now` among the schedules. */
function nextCronTick(crons: CronSchedule[], now: Date): Date {
  const ticks = crons.map((c) => CronExpressionParser.parse(c.schedule, { tz: c.tz, currentDate: now }).next().toDate().getTime());
  return new Date(Math.min(...ticks));
}
