/**
 * P7 — many tenants at once: `npx tsx bench/sync-p7.ts [--tenants=20] [--orders=100] [--rate=20] [--window=10] [--workers=2] [--dump-log=file.jsonl]`
 *
 * Target: T tenants, each connected to a Sage business of its own, each with N pending orders, all
 * press "Sync all" at once; `--workers` worker processes (default 2) share the work. The whole lot
 * finishes within 1.2× the slowest single tenant's strict bound, with no 429 for any business, no
 * business seeing more than R calls in any window, and exactly N invoices per business (one per
 * order, by reference).
 *
 * The default limit, 20 calls / 10 s per business (2 calls/s, under Sage's published 200 / minute),
 * makes each tenant's 100 orders span five windows, so the figure says whether tenants synced side by
 * side keep their own pace (none starves). At 60 / 10 s a tenant's ~108 calls fit in a window and a
 * half: its strict bound is one window, and the ratio measures how fast two worker processes on this
 * 2-core machine push the 20 × 48 calls released the instant the window rolls — a throughput figure
 * (P2's), not the pacing one; README gives both.
 *
 * Each business has its own limit: the sandbox counts its sliding window per business (one limit
 * value, R calls / window, for every business — as Sage publishes one limit, and as the app's
 * SAGE_RATE_LIMIT is one value); the app paces by a database rate budget per business. A tenant's
 * strict bound is ⌊(C − 1) ÷ R⌋ × window for its C calls (a window that starts empty lets R calls go
 * at once), so T tenants synced side by side ideally take no longer than the slowest one alone.
 *
 * Set-up (not measured): the sandbox as its own process with T extra Sage users, each with one GB
 * business (bench/lib/sandbox-with-businesses.ts); a fresh PostgreSQL database (DATABASE_URL, or the
 * machine's postgres://postgres@127.0.0.1:5432); T tenants (marketplace accounts RES-7001…), each
 * installed, authorized over HTTP with its own Sage user, catalog refreshed, four products mapped,
 * one order per customer synced (contacts, items cached), then N purchase orders generated on its
 * marketplace account and pulled with Check Changes. The bench's runner stops and the worker
 * processes (`inngest/worker.ts`) start on the same database.
 *
 * Measured: after one idle window the sandbox limit is set to R/window and the request log cleared;
 * the T Sync alls are recorded (a sync_batches row + `sync/batch.requested` each) one after another
 * in a few ms. A tenant's elapsed time is its batch's finished_at − created_at; the total is the
 * last finished_at − the first created_at (database clock).
 */

export {}; // a module: main() is this file's own

async function main() {
  const { arg, numArg } = await import("./lib/cli");
  const T = numArg("tenants", 20);
  const N = numArg("orders", 100);
  const R = numArg("rate", 20);
  const W = numArg("window", 10);
  const workerCount = numArg("workers", 2);
  if (!(T >= 1 && T <= 99)) throw new Error("--tenants must be 1…99");
  process.env.SAGE_RATE_LIMIT = `${R}/${W}`;

  const lib = await import("./lib/sync-bench");
  const pgUrl = lib.ensurePostgresUrl();
  const { checkChanges } = await import("@/lib/marketplace/check-changes");
  const { prepareSyncRequest } = await import("@/lib/sync/dispatch");
  const { InlineRunner } = await import("@/inngest/inline-runner");
  const { syncBatch } = await import("@/inngest/functions/sync-batch");
  const { syncTask } = await import("@/inngest/functions/sync-task");
  const { setDatabaseHandleForTests } = await import("@/db/client");
  const appUrl = "http://localhost:3000";
  const setupStarted = Date.now();

  console.log(`P7 — ${T} tenants × ${N} orders, each its own Sage business at ${R} calls / ${W} s, Sync all for all at once on ${workerCount} worker process(es) (PostgreSQL at ${new URL(pgUrl).host}, fresh database)`);
  const sb = await lib.startSandboxProcess({ appUrl, sageUsers: T });
  let handle: Awaited<ReturnType<typeof lib.openBenchApp>>["handle"] | undefined;
  let runner: InstanceType<typeof InlineRunner> | undefined;
  let workers: Awaited<ReturnType<typeof lib.startWorkers>> = [];
  try {
    await sb.setRateLimit(100_000, 1); // set-up is not what is measured
    const opened = await lib.openBenchApp({ sandbox: sb, appUrl, database: "postgres" });
    handle = opened.handle;
    const db = opened.db;
    runner = new InlineRunner({ db, functions: [syncTask, syncBatch], logger: false, cron: false, pollIntervalMs: 50 });
    runner.start();

    // 1. T tenants, each with its own Sage user and business
    const tenants: Awaited<ReturnType<typeof lib.setupBenchTenant>>[] = [];
    for (let i = 1; i <= T; i++) {
      const nn = String(i).padStart(2, "0");
      const t = await lib.setupBenchTenant(db, { account: `RES-70${nn}`, sageUser: new RegExp(`^Bench Owner ${nn} \\(1 business\\)$`) });
      await t.settings({});
      tenants.push(t);
    }
    const businesses = new Set(tenants.map((t) => t.businessId));
    if (businesses.size !== T) throw new Error(`expected ${T} distinct Sage businesses, got ${businesses.size}`);

    // 2. one order per customer, synced (contacts and items cached) — all tenants side by side
    for (const t of tenants) {
      await sb.control("marketplace/orders", { account_id: t.account, orders: t.customers.map((c) => ({ type: "purchase", customer_id: c.marketplaceCustomerId, items: [{ mpn: "M365-BASIC-M", quantity: 1 }] })), webhooks: false });
      await checkChanges(db, { tenantId: t.tenantId, actor: t.actor });
    }
    const preBatches: string[] = [];
    let preOrders = 0;
    for (const t of tenants) {
      const pre = await prepareSyncRequest(db, { tenantId: t.tenantId });
      preOrders += pre.taskIds.length;
      preBatches.push(await lib.requestSyncAll(runner, t, pre.taskIds));
    }
    const pre = await lib.waitForBatches(db, preBatches);
    if (pre.some((b) => b.status !== "completed")) throw new Error(`pre-sync failed: ${JSON.stringify(pre.filter((b) => b.status !== "completed"))}`);
    console.log(`  pre-sync: ${preOrders} orders (one per customer of each tenant), ${pre.length} batches completed`);

    // 3. N purchase orders per tenant on its marketplace account, pulled with Check Changes
    const taskIdsOf = new Map<string, string[]>();
    for (const t of tenants) {
      await sb.control("marketplace/orders", { account_id: t.account, generate: { count: N, types: ["purchase"], customer_ids: t.customers.map((c) => c.marketplaceCustomerId), mpns: lib.MAPPED_MPNS }, webhooks: false });
      const check = await checkChanges(db, { tenantId: t.tenantId, actor: t.actor });
      const request = await prepareSyncRequest(db, { tenantId: t.tenantId });
      if (request.taskIds.length !== N) throw new Error(`${t.account}: expected ${N} pending tasks, found ${request.taskIds.length} (${JSON.stringify(check)})`);
      taskIdsOf.set(t.tenantId, request.taskIds);
    }

    // 4. the work goes to the worker processes
    await runner.stop({ timeoutMs: 10_000 });
    workers = await lib.startWorkers(workerCount, { ...handle.env, SANDBOX_URL: sb.url, APP_URL: appUrl, SAGE_RATE_LIMIT: process.env.SAGE_RATE_LIMIT!, INNGEST_INLINE_POLL_MS: "50" } as Record<string, string>);
    console.log(`  set-up took ${((Date.now() - setupStarted) / 1000).toFixed(0)} s; workers: ${workers.map((w) => `pid ${w.pid}`).join(", ")} on ${handle.label}`);

    // 5. an idle window, then the limit on, the log cleared, and every tenant's Sync all
    await lib.sleep(W * 1000 + 500);
    await sb.setRateLimit(R, W);
    await sb.clearRequestLog();
    const batchOf = new Map<string, string>();
    for (const t of tenants) batchOf.set(t.tenantId, await lib.requestSyncAll(runner, t, taskIdsOf.get(t.tenantId)!));
    const timings = await lib.waitForBatches(db, [...batchOf.values()], 1_800_000, workers);

    // 6. figures
    const log = lib.apiCalls(await sb.requestLog());
    const dump = arg("dump-log");
    if (dump) (await import("node:fs")).writeFileSync(dump, log.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const windowMax = lib.maxCallsPerWindow(log, W * 1000);
    const first = Math.min(...timings.map((b) => b.createdMs));
    const last = Math.max(...timings.map((b) => b.finishedMs));
    const totalS = (last - first) / 1000;
    const rows: { account: string; calls: number; s429: number; windowMax: number; strictS: number; elapsedS: number; invoices: number; refs: number; dup: number; synced: number; status: string }[] = [];
    for (const t of tenants) {
      const mine = log.filter((l) => l.business === t.businessId);
      const timing = timings.find((b) => b.batchId === batchOf.get(t.tenantId))!;
      const taskIds = taskIdsOf.get(t.tenantId)!;
      const orderIds = new Set(await t.orderIds(taskIds));
      const invoices = (await lib.sageInvoices(sb, t.businessId)).filter((i) => i.reference && orderIds.has(i.reference));
      const per = new Map<string, number>();
      for (const i of invoices) per.set(i.reference!, (per.get(i.reference!) ?? 0) + 1);
      const states = await t.taskStates(taskIds);
      rows.push({
        account: t.account,
        calls: mine.length,
        s429: mine.filter((l) => l.status === 429).length,
        windowMax: windowMax.get(t.businessId) ?? 0,
        strictS: lib.strictBoundS(mine.length, R, W),
        elapsedS: timing.elapsedMs / 1000,
        invoices: invoices.length,
        refs: per.size,
        dup: [...per.values()].filter((n) => n > 1).length,
        synced: states.synced ?? 0,
        status: timing.status,
      });
    }
    const unattributed = log.filter((l) => !businesses.has(String(l.business))).length;
    const slowestStrict = Math.max(...rows.map((r) => r.strictS));
    const ratio = slowestStrict > 0 ? totalS / slowestStrict : Infinity;
    const calls = rows.reduce((n, r) => n + r.calls, 0);
    const s429 = log.filter((l) => l.status === 429).length;
    const maxWindow = Math.max(0, ...windowMax.values());
    const measured = calls > 0 && rows.every((r) => r.calls > 0);
    // a strict bound of 0 (every tenant needs ≤ R calls) leaves nothing to compare with: FAIL, say so
    const okRatio = measured && slowestStrict > 0 && ratio <= 1.2;
    const ok429 = measured && s429 === 0;
    const okWindow = measured && maxWindow <= R;
    const exactlyOnce = rows.every((r) => r.status === "completed" && r.invoices === N && r.refs === N && r.dup === 0 && r.synced === N);

    console.log(`  per tenant (account: Sage calls, 429s, most calls in a ${W} s window, strict bound, elapsed, invoices by reference):`);
    for (const r of rows) {
      console.log(`    ${r.account}: ${r.calls} calls, ${r.s429}×429, window max ${r.windowMax}, strict ${r.strictS.toFixed(0)} s, elapsed ${r.elapsedS.toFixed(1)} s (${(r.elapsedS / r.strictS).toFixed(3)}×), ${r.invoices} invoices for ${r.refs} orders, ${r.dup} duplicated, ${r.synced}/${N} tasks synced`);
    }
    const el = rows.map((r) => r.elapsedS).sort((a, b) => a - b);
    console.log(`  Sage API calls: ${calls} for ${T * N} orders (${(calls / (T * N)).toFixed(3)} per order)${unattributed ? `, ${unattributed} not attributed to a tenant's business` : ""}; tenant elapsed min ${el[0]!.toFixed(1)} s, median ${lib.median(el).toFixed(1)} s, max ${el[el.length - 1]!.toFixed(1)} s`);
    console.log(`  ${lib.verdict(okRatio)}  total elapsed ${totalS.toFixed(1)} s (first Sync all recorded → last batch finished), slowest tenant's strict bound ${slowestStrict.toFixed(1)} s → ratio ${Number.isFinite(ratio) ? ratio.toFixed(3) : "n/a"} (target ≤ 1.2${slowestStrict > 0 ? "" : "; every tenant needed ≤ R calls, so there is no bound to compare with: use more orders"})`);
    console.log(`  ${lib.verdict(ok429)}  ${s429} answers 429 (target 0)`);
    console.log(`  ${lib.verdict(okWindow)}  most calls of one business in any ${W} s window (sandbox log): ${maxWindow} (target ≤ ${R})`);
    console.log(`  ${lib.verdict(exactlyOnce)}  exactly once: ${N} invoices per business by reference, none duplicated, every task synced`);
    const pass = okRatio && ok429 && okWindow && exactlyOnce;
    console.log(`\nP7 (${T} tenants × ${N} orders, ${workerCount} worker process(es)): ${lib.verdict(pass)}`);
    return pass;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await runner?.stop({ timeoutMs: 5_000 }).catch(() => {});
    setDatabaseHandleForTests(undefined);
    await handle?.drop().catch(() => {});
    await sb.close();
  }
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
