import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { syncTasks } from "@/db/schema";
import { SYNC_BATCH_REQUESTED } from "@/inngest/functions/sync-batch";
import { createSyncBatch } from "@/lib/sync/batches";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * The process running the sync is killed (SIGKILL) three times while it syncs 300 orders. After
 * each restart it takes over the interrupted run; in the end Sage holds exactly one invoice per order.
 */
describe("sync survives the process being killed", () => {
  let sw: SyncWorld | undefined;
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    worker?.kill("SIGKILL");
    await sw?.close();
  });

  it("300 orders, killed three times mid-sync → exactly 300 invoices, all tasks synced", async () => {
    sw = await startSyncWorld({ persistentDb: true });
    await sw.settings({});
    const orders: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < 300; i++) {
      orders.push(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(1 + (i % 5)) }], { customer: { id: `TA-K${i % 10}`, name: `Kill Customer ${i % 10}`, email: `k${i % 10}@kill.example` } }));
    }
    // slow Sage down a little so there is time to kill
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "delay", delayMs: 15 });
    await sw.world.control("config", { rateLimit: { limit: 100000, windowSeconds: 60, retryAfter: true } });
    const refs = new Set(orders.map((o) => o.orderId));
    const invoicesInSage = async () => (await sw!.sageState()).sales_invoices.filter((i) => refs.has(i.reference ?? "")).length;

    // hand the database over to the worker process
    await sw.runner.stop({ timeoutMs: 2_000 });
    const env = { ...process.env, ...sw.world.db.env, SANDBOX_URL: sw.world.sandbox.url, APP_URL: "http://localhost:3000", INNGEST_INLINE_LEASE_MS: "1500", INNGEST_INLINE_POLL_MS: "50", SAGE_RATE_LIMIT: "100000/60" };
    const tenantId = sw.world.tenantId;
    const { batchId } = await createSyncBatch(sw.world.db.db, { tenantId, connectionId: sw.connectionId, trigger: "sync_all", actor: sw.world.actor, taskIds: orders.map((o) => o.taskId) });
    const event = { name: SYNC_BATCH_REQUESTED, id: `sync-all-${tenantId}`, data: { tenantId, connectionId: sw.connectionId, batchId } };
    await sw.world.db.close();
    let output = "";
    const start = (first: boolean) => {
      const child = spawn(process.execPath, ["--import", "tsx", "inngest/worker.ts", ...(first ? ["--send", JSON.stringify(event)] : []), "--exit-when-idle"], { env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (d) => (output += d));
      child.stderr!.on("data", (d) => (output += d));
      return child;
    };

    const t0 = Date.now();
    worker = start(true);
    let seen = 0;
    for (let kill = 1; kill <= 3; kill++) {
      const target = seen + 40;
      const deadline = Date.now() + 60_000;
      while ((seen = await invoicesInSage()) < target) {
        if (Date.now() > deadline) throw new Error(`no progress before kill ${kill}: ${seen} invoices\n${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      worker.kill("SIGKILL");
      await new Promise((r) => worker!.once("exit", r));
      console.log(`[sync-crash] ${((Date.now() - t0) / 1000).toFixed(1)} s: killed the worker (${kill}/3) with ${seen}/300 invoices in Sage`);
      worker = start(false);
    }
    const code = await new Promise<number | null>((resolve) => worker!.once("exit", resolve));
    expect(code, output.slice(-3000)).toBe(0);
    console.log(`[sync-crash] ${((Date.now() - t0) / 1000).toFixed(1)} s: done`);
    worker = undefined;

    // reopen the database the worker used
    const db = await sw.world.restartDb();
    setDatabaseHandleForTests(db);
    const rows = await db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, tenantId));
    expect(rows.filter((r) => refs.has(r.marketplaceOrderId)).every((r) => r.state === "synced")).toBe(true);
    const state = await sw.sageState();
    const invoices = state.sales_invoices.filter((i) => refs.has(i.reference ?? ""));
    expect(invoices).toHaveLength(300);
    expect(new Set(invoices.map((i) => i.reference)).size).toBe(300);
    expect(state.contacts.filter((c) => (c.reference ?? "").startsWith("TA-K"))).toHaveLength(10);
  }, 240_000);
});
