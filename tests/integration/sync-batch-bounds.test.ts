import { afterAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { inlineRuns, syncBatches, syncTasks } from "@/db/schema";
import { syncBatch, SYNC_BATCH_REQUESTED } from "@/inngest/functions/sync-batch";
import { syncTask } from "@/inngest/functions/sync-task";
import { InlineRunner, type EventSentInfo, type StepFinishedInfo } from "@/inngest/inline-runner";
import type { MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { createSyncBatch, startSyncBatch, syncBatchSlice, syncTasksPerStep, SYNC_STEP_SAGE_SECONDS, SYNC_TASKS_PER_STEP_MAX } from "@/lib/sync/batches";
import { recordOrder } from "@/lib/tasks/record-order";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Sync all of 20,000 tasks stays inside Inngest's bounds: every `sync-tasks-*` step handles ≤ 100
 * tasks, there are exactly ⌈N ÷ 100⌉ of them, and no event stored by the runner is over 64 KB (events
 * carry the batch id, not the tasks). Read from the runner's own records (inline_runs.steps outputs,
 * inline_runs.event) and cross-checked with its onStepFinished / onEventSent hooks.
 *
 * The 20,000 tasks are orders of one customer for a product that is NOT mapped, so each ends
 * action_required with nothing written to Sage (20,000 invoices would take the sandbox minutes);
 * a second Sync all of 1,000 mapped orders then checks the same per-step bound with real writes.
 */

const BIG = 20_000;
const REAL = 1_000;
/** Sage's 200 calls a minute, as 20,000 per 6,000 s: the same ~30 s of work per step (100 tasks), and no pacing inside this test */
const RATE = { limit: 20_000, periodSeconds: 6_000 };
const SYNC_TASKS_PER_STEP = 100;
const MAX_EVENT_BYTES = 64 * 1024;

describe("tasks per step follow the rate limit", () => {
  it("~30 s of Sage work at the limit: 100 at 200 a minute, 180 at 60 per 10 s, at least 1, at most 1,000", () => {
    expect(SYNC_STEP_SAGE_SECONDS).toBe(30);
    expect(syncTasksPerStep({ limit: 200, periodSeconds: 60 })).toBe(100);
    expect(syncTasksPerStep({ limit: 60, periodSeconds: 10 })).toBe(180);
    expect(syncTasksPerStep({ limit: 1, periodSeconds: 3600 })).toBe(1);
    expect(syncTasksPerStep({ limit: 1_000_000, periodSeconds: 1 })).toBe(SYNC_TASKS_PER_STEP_MAX);
    expect(SYNC_TASKS_PER_STEP_MAX).toBe(1_000);
  });
});

describe("Sync all: step and event bounds", () => {
  let sw: SyncWorld | undefined;
  let runner: InlineRunner | undefined;
  const savedRateLimit = process.env.SAGE_RATE_LIMIT;
  afterAll(async () => {
    await runner?.stop({ timeoutMs: 5_000 });
    await sw?.close();
    if (savedRateLimit === undefined) delete process.env.SAGE_RATE_LIMIT;
    else process.env.SAGE_RATE_LIMIT = savedRateLimit;
  });

  it(`${BIG.toLocaleString("en-GB")} unmapped tasks (no Sage writes), then ${REAL.toLocaleString("en-GB")} with real writes: ≤ ${SYNC_TASKS_PER_STEP} tasks per step, ⌈N ÷ ${SYNC_TASKS_PER_STEP}⌉ steps, no stored event over 64 KB, every task in its expected state`, async () => {
    // Sage's rate (200 a minute) over a long window: steps sized as at Sage's limit, and no waiting here —
    // this test is about step sizes, not pacing
    process.env.SAGE_RATE_LIMIT = `${RATE.limit}/${RATE.periodSeconds}`;
    expect(syncTasksPerStep(RATE)).toBe(SYNC_TASKS_PER_STEP);
    expect(syncTasksPerStep()).toBe(SYNC_TASKS_PER_STEP);
    sw = await startSyncWorld();
    await sw.world.control("config", { rateLimit: { limit: 100_000, windowSeconds: 60, retryAfter: true } });
    await sw.settings({});
    const db = sw.db;
    const tenantId = sw.world.tenantId;

    // the world's runner is replaced by one whose hooks report every step and every event
    await sw.runner.stop({ timeoutMs: 2_000 });
    const steps: StepFinishedInfo[] = [];
    const events: EventSentInfo[] = [];
    runner = new InlineRunner({
      db,
      functions: [syncTask, syncBatch],
      pollIntervalMs: 10,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 200,
      leaseMs: 30_000,
      logger: false,
      cron: false,
      onStepFinished: (info) => steps.push(info),
      onEventSent: (info) => events.push(info),
    });
    runner.start();

    // orders recorded as tasks the way push and pull record them (recordOrder), 500 per transaction
    const customer = { id: "TB-1", name: "Bounds Customer", email: "bounds@batch-bounds.example", currency: "GBP" };
    const makeOrder = (id: string, mpn: string, quantity: string): MarketplaceRequestDto => {
      const created = new Date().toISOString();
      return {
        id,
        type: "purchase",
        status: "approved",
        created,
        updated: created,
        currency: "GBP",
        billing_period: "monthly",
        account_id: "RES-1001",
        asset: {
          id: `AS-${customer.id}`,
          items: [{ mpn, quantity, old_quantity: "0" }],
          tiers: { customer: { id: customer.id, name: customer.name, contact_info: { email: customer.email }, currency: customer.currency } },
        },
        marketplace: { id: "demo-marketplace" },
      } as MarketplaceRequestDto;
    };
    const record = async (prefix: string, count: number, mpn: string) => {
      const taskIds: string[] = [];
      const orderIds: string[] = [];
      const customersDone = new Set<string>();
      for (let from = 0; from < count; from += 500) {
        await db.transaction(async (tx) => {
          for (let i = from; i < Math.min(count, from + 500); i++) {
            const order = makeOrder(`${prefix}-${String(i).padStart(5, "0")}`, mpn, String(1 + (i % 3)));
            const r = await recordOrder(tx, { tenantId, order, source: "pull", actor: sw!.world.actor, notifications: "errors_and_actions", customersDone });
            if (r.outcome !== "created" || !r.taskId) throw new Error(`order ${order.id}: ${r.outcome}`);
            taskIds.push(r.taskId);
            orderIds.push(order.id);
          }
        });
      }
      return { taskIds, orderIds };
    };

    /** Sync all of these tasks on the runner; the batch's run(s), completed. */
    const syncAll = async (taskIds: string[]) => {
      const { batchId } = await createSyncBatch(db, { tenantId, connectionId: sw!.connectionId, trigger: "sync_all", actor: sw!.world.actor, taskIds });
      const { runIds } = await runner!.send({ name: SYNC_BATCH_REQUESTED, id: `sync-all-${batchId}`, data: { tenantId, connectionId: sw!.connectionId, batchId } });
      expect(runIds).toHaveLength(1);
      const run = await runner!.waitForRun(runIds[0]!, { timeoutMs: 400_000 });
      expect(run.status, run.lastError ?? "").toBe("completed");
      const [batch] = await db.select().from(syncBatches).where(eq(syncBatches.id, batchId));
      expect(batch!.status).toBe("completed");
      return { batchId, run };
    };

    /** The bounds, from the run's record and from the hooks. */
    const checkSteps = (run: typeof inlineRuns.$inferSelect, n: number, stepsBefore: number) => {
      const record = run.steps as Record<string, { op: string; data?: { tasks?: number } }>;
      const sliceIds = Object.keys(record).filter((k) => k.startsWith("sync-tasks-"));
      const expectedIds = Array.from({ length: Math.ceil(n / SYNC_TASKS_PER_STEP) }, (_, k) => `sync-tasks-${k * SYNC_TASKS_PER_STEP}`);
      expect(sliceIds.sort()).toEqual([...expectedIds].sort());
      const perStep = expectedIds.map((id) => record[id]!.data?.tasks);
      expect(perStep.every((t) => typeof t === "number" && t >= 1 && t <= SYNC_TASKS_PER_STEP)).toBe(true);
      expect(perStep.reduce((a, b) => a! + b!, 0)).toBe(n);
      expect(Math.max(...(perStep as number[]))).toBe(Math.min(n, SYNC_TASKS_PER_STEP));
      // the hook saw each slice finish exactly once, none failed, outputs small
      const hooked = steps.slice(stepsBefore).filter((s) => s.runId === run.id && s.stepId.startsWith("sync-tasks-"));
      expect(hooked.map((s) => s.stepId).sort()).toEqual([...expectedIds].sort());
      expect(hooked.every((s) => !s.failed && s.op === "run" && s.outputBytes > 0 && s.outputBytes < 1024)).toBe(true);
      return expectedIds.length;
    };

    /** No event stored in inline_runs (JSON bytes) is over 64 KB; nor any the runner accepted. */
    const checkEvents = async () => {
      const rows = (await db.execute(sql`select count(*)::int as n, coalesce(max(octet_length(event::text)), 0)::int as max_bytes from inline_runs`)) as unknown as { rows: { n: number; max_bytes: number }[] };
      const { n, max_bytes } = rows.rows[0]!;
      expect(n).toBeGreaterThan(0);
      expect(max_bytes).toBeGreaterThan(0);
      expect(max_bytes).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      expect(events.length).toBeGreaterThan(0);
      expect(Math.max(...events.map((e) => e.bytes))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      return max_bytes;
    };

    const sageBefore = await sw.sageState();

    // 1. 20,000 tasks of an unmapped product → all action_required, nothing written to Sage
    const t0 = Date.now();
    const big = await record(`PR-BND-${randomUUID().slice(0, 6)}`, BIG, "BACKUP-1TB");
    const t1 = Date.now();
    await sw.world.clearRequestLog();
    const first = await syncAll(big.taskIds);
    const t2 = Date.now();
    const bigSteps = checkSteps(first.run, BIG, 0);
    expect(bigSteps).toBe(BIG / SYNC_TASKS_PER_STEP);
    expect(first.run.output).toMatchObject({ synced: 0, failed: 0, actionRequired: BIG, skipped: 0, documents: 0 });
    const bigStates = (await db.execute(sql`select state, reason, count(*)::int as n from sync_tasks where tenant_id = ${tenantId}::uuid and id = any(${`{${big.taskIds.join(",")}}`}::uuid[]) group by 1, 2`)) as unknown as { rows: { state: string; reason: string | null; n: number }[] };
    expect(bigStates.rows).toHaveLength(1);
    expect(bigStates.rows[0]).toMatchObject({ state: "action_required", n: BIG });
    expect(bigStates.rows[0]!.reason).toBe("Map this product to a Sage item first: Cloud Backup 1 TB (BACKUP-1TB). Nothing was written to Sage.");
    const writes = (await sw.world.requestLog()).filter((l) => l.method !== "GET" && (l.route ?? "").startsWith("sage.") && !(l.route ?? "").startsWith("sage.token"));
    expect(writes.filter((l) => /sales_invoices|sales_credit_notes/.test(l.path))).toHaveLength(0);
    const afterBig = await sw.sageState();
    expect(afterBig.sales_invoices).toHaveLength(sageBefore.sales_invoices.length);
    expect(afterBig.sales_credit_notes).toHaveLength(sageBefore.sales_credit_notes.length);

    // 2. 1,000 mapped orders → 1,000 invoices, 10 steps of 100
    const stepsBefore = steps.length;
    const real = await record(`PR-BNR-${randomUUID().slice(0, 6)}`, REAL, "M365-STD");
    const t3 = Date.now();
    const second = await syncAll(real.taskIds);
    const t4 = Date.now();
    expect(checkSteps(second.run, REAL, stepsBefore)).toBe(REAL / SYNC_TASKS_PER_STEP);
    expect(second.run.output).toMatchObject({ synced: REAL, failed: 0, actionRequired: 0, skipped: 0, documents: REAL });
    const realTasks = await db.select({ state: syncTasks.state }).from(syncTasks).where(inArray(syncTasks.id, real.taskIds));
    expect(realTasks).toHaveLength(REAL);
    expect(realTasks.every((t) => t.state === "synced")).toBe(true);
    const refs = new Set(real.orderIds);
    const invoices = (await sw.sageState()).sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    expect(invoices).toHaveLength(REAL);
    expect(new Set(invoices.map((i) => i.reference)).size).toBe(REAL);
    // the 20,000 stayed as they were
    const stillBig = (await db.execute(sql`select count(*)::int as n from sync_tasks where state = 'action_required' and id = any(${`{${big.taskIds.join(",")}}`}::uuid[])`)) as unknown as { rows: { n: number }[] };
    expect(stillBig.rows[0]!.n).toBe(BIG);

    // 3. a step whose time box has passed takes no chunk after its first (25 tasks): the rest of its
    // slice is left untouched, and the flow's next step starts right after what it dealt with
    const boxed = await record(`PR-BNT-${randomUUID().slice(0, 6)}`, 150, "M365-STD");
    const { batchId: boxedBatch } = await createSyncBatch(db, { tenantId, connectionId: sw.connectionId, trigger: "sync_all", actor: sw.world.actor, taskIds: boxed.taskIds });
    const head = (await startSyncBatch(db, boxedBatch))!;
    expect(head.tasksPerStep).toBe(SYNC_TASKS_PER_STEP);
    const firstSlice = await syncBatchSlice(db, head, 0, SYNC_TASKS_PER_STEP, 0);
    expect(firstSlice).toMatchObject({ tasks: 25, synced: 25, documents: 25, failed: 0 });
    const boxedStates = await db.select({ id: syncTasks.id, state: syncTasks.state }).from(syncTasks).where(inArray(syncTasks.id, boxed.taskIds));
    const stateOf = new Map(boxedStates.map((t) => [t.id, t.state]));
    expect(boxed.taskIds.slice(0, 25).every((id) => stateOf.get(id) === "synced")).toBe(true);
    expect(boxed.taskIds.slice(25).every((id) => stateOf.get(id) === "pending")).toBe(true);
    const { runIds: boxedRuns } = await runner!.send({ name: SYNC_BATCH_REQUESTED, id: `sync-all-${boxedBatch}-from-25`, data: { tenantId, connectionId: sw.connectionId, batchId: boxedBatch, fromPosition: 25 } });
    const boxedRun = await runner!.waitForRun(boxedRuns[0]!, { timeoutMs: 120_000 });
    expect(boxedRun.status, boxedRun.lastError ?? "").toBe("completed");
    expect(Object.keys(boxedRun.steps as Record<string, unknown>).filter((k) => k.startsWith("sync-tasks-")).sort()).toEqual(["sync-tasks-125", "sync-tasks-25"]);
    const boxedRefs = new Set(boxed.orderIds);
    const boxedInvoices = (await sw.sageState()).sales_invoices.filter((i) => boxedRefs.has(i.reference ?? ""));
    expect(boxedInvoices).toHaveLength(150);
    expect(new Set(boxedInvoices.map((i) => i.reference)).size).toBe(150);

    // 4. events: every one stored is the batch id and little else
    const maxBytes = await checkEvents();
    console.log(
      `[sync-batch-bounds] ${sw.world.db.label}: recorded ${BIG} tasks in ${((t1 - t0) / 1000).toFixed(1)} s, synced in ${((t2 - t1) / 1000).toFixed(1)} s (${bigSteps} steps); ${REAL} real in ${((t4 - t3) / 1000).toFixed(1)} s; largest stored event ${maxBytes} bytes`,
    );
  }, 600_000);
});
