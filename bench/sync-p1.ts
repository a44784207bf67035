/**
 * P1 — "Sync all" under Sage's rate limit, on worker processes:
 * `npx tsx bench/sync-p1.ts [--rate=60] [--window=10] [--orders=300] [--workers=2] [--dump-log=file.jsonl]`
 *
 * Target: at a rate limit of R calls per window, syncing N orders on `--workers` worker processes
 * (default 2; 1 or 2) takes at most 1.05× the strict bound, needs at most 1.1 Sage calls per order once
 * contacts and items are known, never runs into 429s, no business sees more than R calls in any window,
 * and every order gets exactly one invoice.
 *
 * The strict bound: with a sliding window that starts empty the first R calls may go at once, so C
 * calls need at least ⌊(C − 1) ÷ R⌋ × window. (The issue's first "floor", C ÷ R × window, is printed
 * for information: a limiter can beat it by up to one window.)
 *
 * Set-up (not measured): the sandbox as its own process; a fresh PostgreSQL database (DATABASE_URL, or
 * the machine's postgres://postgres@127.0.0.1:5432 — PGlite cannot be shared by processes); the app
 * (real code) installed, authorized, catalog refreshed and four products mapped; one order per
 * marketplace customer placed on the sandbox marketplace, pulled with Check Changes and synced (the
 * bench's own inline runner), so every customer has its Sage contact and the items are cached. Then N
 * purchase orders are generated on the marketplace and pulled with Check Changes. The bench's runner
 * is stopped and the worker processes (`inngest/worker.ts`, what `npm run worker` runs: every
 * function, cron included) are started on the same database.
 *
 * Measured: after one idle window (so the database rate budget and the sandbox's window both start
 * empty) the sandbox limit is set to R/window (`/__sandbox/config`; the app's SAGE_RATE_LIMIT is the
 * same in every process), the request log cleared, and "Sync all" (prepareSyncRequest → a
 * sync_batches row → `sync/batch.requested`) is recorded in the database; the workers take it. The
 * elapsed time is the batch's finished_at − created_at (database clock). Sage calls and 429s are
 * counted from the sandbox's request log (API routes only).
 */
export {}; // a module: main() is this file's own

async function main() {
  const { arg, numArg } = await import("./lib/cli");
  const R = numArg("rate", 60);
  const W = numArg("window", 10);
  const N = numArg("orders", 300);
  const workerCount = numArg("workers", 2);
  if (workerCount !== 1 && workerCount !== 2) throw new Error("--workers must be 1 or 2");
  // read by lib/config at first use: set before any app code runs
  process.env.SAGE_RATE_LIMIT = `${R}/${W}`;

  const lib = await import("./lib/sync-bench");
  const pgUrl = lib.ensurePostgresUrl();
  const { checkChanges } = await import("@/lib/marketplace/check-changes");
  const { prepareSyncRequest } = await import("@/lib/sync/dispatch");
  const appUrl = "http://localhost:3000";

  console.log(`P1 — Sync all of ${N} orders at a Sage rate limit of ${R} calls / ${W} s on ${workerCount} worker process(es) (SAGE_RATE_LIMIT=${process.env.SAGE_RATE_LIMIT}, PostgreSQL at ${new URL(pgUrl).host}, fresh database)`);
  const sb = await lib.startSandboxProcess({ appUrl });
  let app: Awaited<ReturnType<typeof lib.startBenchApp>> | undefined;
  let workers: Awaited<ReturnType<typeof lib.startWorkers>> = [];
  try {
    await sb.setRateLimit(100_000, 1); // set-up is not what is measured
    app = await lib.startBenchApp({ sandbox: sb, appUrl, database: "postgres", runner: { pollIntervalMs: 50 } });
    await app.settings({});

    // 1. one order per customer → contacts exist, items cached
    const pre = await lib.presyncOnePerCustomer(app, sb);
    console.log(`  pre-sync: ${pre.orders} orders (one per customer) → ${JSON.stringify(pre.states)}`);

    // 2. N purchase orders on the marketplace, pulled with Check Changes
    const customerIds = app.customers.map((c) => c.marketplaceCustomerId);
    await sb.control("marketplace/orders", { account_id: lib.ACCOUNT, generate: { count: N, types: ["purchase"], customer_ids: customerIds, mpns: lib.MAPPED_MPNS }, webhooks: false });
    const check = await checkChanges(app.db, { tenantId: app.tenantId, actor: app.actor });
    const request = await prepareSyncRequest(app.db, { tenantId: app.tenantId });
    if (request.taskIds.length !== N) throw new Error(`expected ${N} pending tasks, found ${request.taskIds.length} (${JSON.stringify(check)})`);

    // 3. the work goes to the worker processes: the bench's runner stops, the workers start
    await app.runner.stop({ timeoutMs: 10_000 });
    workers = await lib.startWorkers(workerCount, { ...app.handle.env, SANDBOX_URL: sb.url, APP_URL: appUrl, SAGE_RATE_LIMIT: process.env.SAGE_RATE_LIMIT!, INNGEST_INLINE_POLL_MS: "50" } as Record<string, string>);
    console.log(`  workers: ${workers.map((w) => `pid ${w.pid}`).join(", ")} on ${app.handle.label}`);

    // 4. an idle window, then the limit on and the log cleared
    await lib.sleep(W * 1000 + 500);
    await sb.setRateLimit(R, W);
    await sb.clearRequestLog();

    const batchId = await lib.requestSyncAll(app.runner, app, request.taskIds);
    const [timing] = await lib.waitForBatches(app.db, [batchId], 1_800_000, workers);
    if (timing!.status !== "completed") throw new Error(`sync batch ${timing!.status}: ${timing!.lastError}`);

    const log = lib.apiCalls(await sb.requestLog());
    const dump = arg("dump-log");
    if (dump) (await import("node:fs")).writeFileSync(dump, log.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const calls = log.length;
    const status429 = log.filter((l) => l.status === 429).length;
    const byRoute = new Map<string, number>();
    for (const l of log) byRoute.set(l.route ?? "?", (byRoute.get(l.route ?? "?") ?? 0) + 1);
    const states = await app.taskStates(request.taskIds);
    const orderIds = new Set(await app.orderIds(request.taskIds));
    const invoices = (await lib.sageInvoices(sb, app.businessId)).filter((i) => i.reference && orderIds.has(i.reference));
    const perReference = new Map<string, number>();
    for (const i of invoices) perReference.set(i.reference!, (perReference.get(i.reference!) ?? 0) + 1);
    const duplicates = [...perReference.values()].filter((n) => n > 1).length;
    const exactlyOnce = invoices.length === N && perReference.size === N && duplicates === 0 && (states.synced ?? 0) === N;
    const windowMax = Math.max(0, ...lib.maxCallsPerWindow(log, W * 1000).values());

    const floorS = (calls / R) * W;
    const strictS = lib.strictBoundS(calls, R, W);
    const elapsedS = timing!.elapsedMs / 1000;
    const ratio = strictS > 0 ? elapsedS / strictS : Infinity;
    const perOrder = calls / N;
    const measured = calls > 0;
    const okRatio = measured && strictS > 0 && ratio <= 1.05; // a bound of 0 (≤ R calls) leaves nothing to compare with
    const okCalls = measured && perOrder <= 1.1;
    const ok429 = measured && status429 === 0;
    const okWindow = measured && windowMax <= R;

    console.log(`  Sage API calls in the measured phase: ${calls} (${[...byRoute].map(([r, n]) => `${r} ${n}`).join(", ")}), of which ${status429} answered 429`);
    console.log(`  tasks: ${JSON.stringify(states)}; invoices in Sage for these orders: ${invoices.length} for ${perReference.size} orders, ${duplicates} duplicated`);
    console.log(`  ${lib.verdict(okRatio)}  elapsed ${elapsedS.toFixed(1)} s, strict bound ⌊(calls − 1) ÷ R⌋ × window = ${strictS.toFixed(1)} s → ratio ${Number.isFinite(ratio) ? ratio.toFixed(3) : "n/a"} (target ≤ 1.05)`);
    console.log(`        (calls ÷ R × window = ${floorS.toFixed(1)} s → ${(elapsedS / floorS).toFixed(3)}, information)`);
    console.log(`  ${lib.verdict(okCalls)}  ${perOrder.toFixed(3)} Sage calls per order, 429s included (target ≤ 1.1)`);
    console.log(`  ${lib.verdict(ok429)}  ${status429} answers 429 (target 0)`);
    console.log(`  ${lib.verdict(okWindow)}  most calls in any ${W} s window (sandbox log): ${windowMax} (target ≤ ${R})`);
    if (status429 > 0) {
      const t = (l: { at?: string }) => Date.parse(l.at ?? "");
      const gaps = log
        .map((l, i) => ({ l, i }))
        .filter(({ l }) => l.status === 429)
        .map(({ l, i }) => {
          const before = log.slice(0, i).filter((x) => x.status !== 429);
          const oldest = before[before.length - R]; // the call the limiter let leave the window
          return oldest ? `${t(l) - t(oldest)} ms` : "?";
        });
      console.log(`        each 429 arrived this long after the call R places before it (the window is ${W * 1000} ms): ${gaps.join(", ")}`);
    }
    console.log(`  ${lib.verdict(exactlyOnce)}  exactly once: every order synced, one invoice each`);
    const pass = okRatio && okCalls && ok429 && okWindow && exactlyOnce;
    console.log(`\nP1 (rate-limited Sync all, ${workerCount} worker process(es)): ${lib.verdict(pass)}`);
    return pass;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await app?.close();
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
