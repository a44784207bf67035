import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { eq, sql } from "drizzle-orm";
import { syncBatches, syncTasks } from "@/db/schema";
import { syncBatch, SYNC_BATCH_REQUESTED } from "@/inngest/functions/sync-batch";
import { InlineRunner } from "@/inngest/inline-runner";
import { createSyncBatch, syncTasksPerStep } from "@/lib/sync/batches";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Two worker processes (`inngest/worker.ts`, what `npm run worker` runs) share one PostgreSQL
 * database and sync ONE connection's 600 orders while the sandbox allows R calls per W seconds per
 * business and every worker's SAGE_RATE_LIMIT says the same. The pace is the database rate budget
 * (lib/connections/rate-budget.ts): whichever process runs a step, the sandbox's own log never shows more
 * than R calls in a window, nor a 429. The test also proves that BOTH processes executed sync steps
 * (sampled from inline_runs.locked_by while each step runs), or it would not show cross-process pacing.
 */

const ADMIN_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** PostgreSQL reachable? (PGlite cannot be shared by processes.) */
async function postgresAvailable(url: string): Promise<boolean> {
  const { Client } = await import("pg");
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}
const PG = await postgresAvailable(ADMIN_URL);

const N = 600;
const R = 60;
const W = 5;
const CUSTOMERS = 10;

type Worker = { child: ChildProcess; output: () => string; workerId: () => string | undefined; exit: Promise<number | null> };

function startWorker(env: NodeJS.ProcessEnv): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", "inngest/worker.ts"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    // the runner logs the first 15 characters of its id ("inline-" + 8) when it starts
    workerId: () => /\[inngest:inline\] started \(\d+ functions, worker (inline-[0-9a-f]{8})\)/.exec(output)?.[1],
    exit,
  };
}

/** the most timestamps in any half-open window [t, t + span) */
function maxInWindow(times: number[], span: number) {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= span) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Sync all on two worker processes sharing one PostgreSQL database", () => {
  let sw: SyncWorld | undefined;
  const workers: Worker[] = [];
  const savedDatabaseUrl = process.env.DATABASE_URL;
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await sw?.close();
    if (savedDatabaseUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedDatabaseUrl;
  });

  it.skipIf(!PG)(
    `${N} orders of one connection at ${R} calls / ${W} s: ≤ ${R} calls in every ${W} s window of the sandbox log, 0 × 429, ${N} invoices, both workers ran sync steps${PG ? "" : ` — SKIPPED: no PostgreSQL at ${new URL(ADMIN_URL).host} (set DATABASE_URL)`}`,
    async () => {
      // a fresh database next to ADMIN_URL (tests/helpers/db.ts creates one when DATABASE_URL is set)
      process.env.DATABASE_URL = ADMIN_URL;
      sw = await startSyncWorld();
      expect(sw.world.db.label).toMatch(/^postgres:/);
      await sw.settings({});
      // the in-process runner must not take the batch: the workers do all the work
      await sw.runner.stop({ timeoutMs: 2_000 });

      const orders: { orderId: string; taskId: string }[] = [];
      for (let i = 0; i < N; i++) {
        const c = i % CUSTOMERS;
        orders.push(await sw.order("purchase", [{ mpn: i % 2 ? "M365-STD" : "M365-BAS", quantity: String(1 + (i % 4)) }], { customer: { id: `TW-${c}`, name: `Two Workers ${c}`, email: `tw${c}@two-workers.example` } }));
      }
      const refs = new Set(orders.map((o) => o.orderId));
      expect(refs.size).toBe(N);

      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...sw.world.db.env,
        SANDBOX_URL: sw.world.sandbox.url,
        APP_URL: "http://localhost:3000",
        SAGE_RATE_LIMIT: `${R}/${W}`,
        INNGEST_INLINE_POLL_MS: "5",
        INNGEST_INLINE_LEASE_MS: "10000",
        // as behind a load balancer: the worker that ran a step leaves the next one to the other
        INNGEST_INLINE_STEP_HANDOFF_MS: "250",
      };
      workers.push(startWorker(env), startWorker(env));
      const bootDeadline = Date.now() + 90_000;
      while (!workers.every((w) => w.output().includes("[worker] inline runner started") && w.workerId())) {
        const dead = workers.find((w) => w.child.exitCode !== null);
        if (dead || Date.now() > bootDeadline) throw new Error(`a worker did not start:\n${workers.map((w) => w.output().slice(-2000)).join("\n---\n")}`);
        await sleep(50);
      }
      const ids = workers.map((w) => w.workerId()!);
      expect(new Set(ids).size).toBe(2);

      // both windows (the sandbox's and the database budget) start empty: one idle window after the set-up's last call
      await sleep(W * 1000 + 500);
      await sw.world.control("config", { rateLimit: { limit: R, windowSeconds: W, retryAfter: true } });
      await sw.world.clearRequestLog();

      // Sync all: the batch row and its event, recorded for whichever worker takes it
      const tenantId = sw.world.tenantId;
      const db = sw.world.db.db;
      const { batchId } = await createSyncBatch(db, { tenantId, connectionId: sw.connectionId, trigger: "sync_all", actor: sw.world.actor, taskIds: orders.map((o) => o.taskId) });
      const sender = new InlineRunner({ db, functions: [syncBatch], logger: false, cron: false });
      const { runIds } = await sender.send({ name: SYNC_BATCH_REQUESTED, id: `sync-all-${batchId}`, data: { tenantId, connectionId: sw.connectionId, batchId } });
      expect(runIds).toHaveLength(1);

      // who executes which step: sample the run's lease holder and the steps recorded so far
      // tasks per step follow the rate limit (~30 s of Sage work at R / W s)
      const perStep = syncTasksPerStep({ limit: R, periodSeconds: W });
      expect(perStep).toBe(Math.floor((R * 30) / W));
      const stepOrder = ["start", ...Array.from({ length: Math.ceil(N / perStep) }, (_, k) => `sync-tasks-${k * perStep}`), "finish"];
      const samples = new Map<string, Map<string, number>>();
      const deadline = Date.now() + 170_000;
      let status = "queued";
      while (status !== "completed" && status !== "failed") {
        if (Date.now() > deadline) throw new Error(`sync batch run still ${status}\n${workers.map((w) => w.output().slice(-2000)).join("\n---\n")}`);
        const dead = workers.find((w) => w.child.exitCode !== null);
        if (dead) throw new Error(`a worker exited during the sync:\n${dead.output().slice(-3000)}`);
        const rows = (await db.execute(
          sql`select status, locked_by, array(select jsonb_object_keys(steps)) as keys from inline_runs where id = ${runIds[0]!}::uuid`,
        )) as unknown as { rows: { status: string; locked_by: string | null; keys: string[] }[] };
        const row = rows.rows[0]!;
        status = row.status;
        if (row.status === "running" && row.locked_by) {
          const step = stepOrder.find((s) => !row.keys.includes(s));
          if (step) {
            const per = samples.get(step) ?? new Map<string, number>();
            per.set(row.locked_by, (per.get(row.locked_by) ?? 0) + 1);
            samples.set(step, per);
          }
        }
        await sleep(20);
      }
      const [run] = await db.execute(sql`select status, output, last_error, steps from inline_runs where id = ${runIds[0]!}::uuid`).then((r) => (r as unknown as { rows: { status: string; output: unknown; last_error: string | null; steps: Record<string, { data?: { tasks?: number } }> }[] }).rows);
      expect(run!.status, `${run!.last_error}\n${workers.map((w) => w.output().slice(-2000)).join("\n---\n")}`).toBe("completed");
      expect(run!.output).toMatchObject({ synced: N, failed: 0, actionRequired: 0 });

      // the workers stop cleanly
      for (const w of workers) w.child.kill("SIGTERM");
      const codes = await Promise.all(workers.map((w) => w.exit));
      expect(codes, workers.map((w) => w.output().slice(-1500)).join("\n---\n")).toEqual([0, 0]);

      // 1. both workers executed sync steps (each step's executor: the lease holder seen most while it ran)
      const executor = new Map<string, string>();
      for (const [step, per] of samples) executor.set(step, [...per].sort((a, b) => b[1] - a[1])[0]![0]);
      const syncSteps = stepOrder.filter((s) => s.startsWith("sync-tasks-"));
      for (const s of syncSteps) expect(executor.has(s), `step ${s} was never seen running`).toBe(true);
      const byWorker = ids.map((id) => syncSteps.filter((s) => executor.get(s)!.startsWith(id)));
      const summary = syncSteps.map((s) => `${s}: ${[...samples.get(s)!].map(([w, n]) => `${w.slice(0, 15)}×${n}`).join(" ")}`).join("; ");
      console.log(`[sync-two-workers] steps by worker: ${ids.map((id, i) => `${id} ${byWorker[i]!.length}`).join(", ")} — ${summary}`);
      expect(byWorker.map((b) => b.length).reduce((a, b) => a + b, 0)).toBe(syncSteps.length);
      expect(byWorker[0]!.length, `worker 1 ran no sync step (${summary})`).toBeGreaterThan(0);
      expect(byWorker[1]!.length, `worker 2 ran no sync step (${summary})`).toBeGreaterThan(0);
      // each step handled its slice: perStep tasks, the last one the rest
      expect(syncSteps.map((s) => run!.steps[s]?.data?.tasks)).toEqual(syncSteps.map((_, k) => Math.min(perStep, N - k * perStep)));

      // 2. the sandbox's own log: ≤ R calls in every window of W s, no 429
      const log = (await sw.world.requestLog()).filter((l) => (l.route ?? "").startsWith("sage.") && !(l.route ?? "").startsWith("sage.token") && !(l.route ?? "").startsWith("sage.authorize"));
      const calls = log.length;
      const times = log.map((l) => Date.parse(String(l.at)));
      expect(times.every(Number.isFinite)).toBe(true);
      const status429 = log.filter((l) => l.status === 429).length;
      const windowMax = maxInWindow(times, W * 1000);
      const spanMs = Math.max(...times) - Math.min(...times);
      const strictMs = Math.floor((calls - 1) / R) * W * 1000;
      const [batch] = await db.select().from(syncBatches).where(eq(syncBatches.id, batchId));
      const elapsedMs = batch!.finishedAt!.getTime() - batch!.createdAt.getTime();
      console.log(`[sync-two-workers] ${calls} Sage calls, ${status429} × 429, most in a ${W} s window ${windowMax}, first→last call ${(spanMs / 1000).toFixed(1)} s, batch ${(elapsedMs / 1000).toFixed(1)} s, strict bound ${(strictMs / 1000).toFixed(1)} s`);
      expect(status429).toBe(0);
      expect(windowMax).toBeLessThanOrEqual(R);
      // the budget binds: many more calls than one window allows, so the bound is real
      expect(calls).toBeGreaterThanOrEqual(N);
      expect(strictMs).toBeGreaterThanOrEqual(Math.floor((N - 1) / R) * W * 1000);
      expect(spanMs).toBeGreaterThanOrEqual(strictMs);
      expect(elapsedMs).toBeGreaterThanOrEqual(strictMs);
      expect(batch!.status).toBe("completed");

      // 3. exactly one invoice per order, every task synced
      const invoices = (await sw.sageState()).sales_invoices.filter((i) => refs.has(i.reference ?? ""));
      expect(invoices).toHaveLength(N);
      expect(new Set(invoices.map((i) => i.reference)).size).toBe(N);
      const tasks = await db.select({ id: syncTasks.id, state: syncTasks.state }).from(syncTasks).where(eq(syncTasks.tenantId, tenantId));
      const ours = new Set(orders.map((o) => o.taskId));
      expect(tasks.filter((t) => ours.has(t.id) && t.state === "synced")).toHaveLength(N);
      expect((await sw.sageState()).contacts.filter((c) => (c.reference ?? "").startsWith("TW-"))).toHaveLength(CUSTOMERS);
    },
    240_000,
  );
});
