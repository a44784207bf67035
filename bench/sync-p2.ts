/**
 * P2 — throughput and memory against an unthrottled Sage: `npx tsx bench/sync-p2.ts`
 *   [--orders=2000] [--reps=5] [--warmup=1000] [--db=pglite-memory|pglite-dir|postgres] [--explain]   (speed)
 *   [--memory-orders=20000] [--memory-db=pglite-dir,postgres] [--skip-speed] [--skip-memory]
 *
 * Targets: syncing 2,000 orders takes at most 1.2× the time of a bare script that POSTs the same
 * invoices to the sandbox in the same run; memory stays flat (RSS growth under 50 MB from 1,000 to
 * 20,000 orders synced).
 *
 * The sandbox runs as its own process with its rate limit lifted (and the app's SAGE_RATE_LIMIT
 * lifted too), so the app's RSS is the app's alone.
 *
 * Speed: the app is set up (installed, authorized, catalog refreshed, products mapped) and one order
 * per customer is synced first (contacts exist, items cached), and both paths below run once with
 * `warmup` orders (not measured). Then, `reps` times, back to back (which one goes first alternates):
 *   - baseline: the `/sales_invoices` bodies the app would send for 2,000 orders (same planner, lines,
 *     contacts, an idempotency id each; own references) POSTed one after the other with fetch and
 *     the bearer token, nothing else;
 *   - app: 2,000 new orders recorded as tasks (recordOrder, not timed), then "Sync all" —
 *     `sync/batch.requested` through an InlineRunner with the real functions — timed from the send
 *     to the run's completion.
 * Medians of each and the ratio app ÷ baseline are printed.
 *
 * Memory: for each database, a child process (`node --expose-gc`) sets the app up against a reset
 * sandbox and records 20,000 orders as tasks (recordOrder in transactions of 500, not timed). Then
 * "Sync all" of the first 1,000, and "Sync all" of the other 19,000 (chunks of 200 as always). RSS
 * is compared idle after 1,000 and idle after 20,000 ("idle" = 10 s after the run, then gc()):
 * while a sync is busy V8 keeps freed 256 KB heap pages resident and returns them only when the
 * isolate goes idle (memory reducer), which makes a sample taken mid-run swing by ±50–90 MB from one
 * run to the next with the live heap flat. The samples taken while the second run is busy are
 * printed too (its peak = the working set). PGlite keeps its pages in a fixed WASM heap (~200 MB,
 * "external"), so it is reported separately from PostgreSQL (DATABASE_URL; a fresh database is
 * created next to it). PGlite here is in a temp directory, like the app's `.data/pglite`.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import fs from "node:fs";

const MB = 1024 * 1024;

async function setupApp(sandboxUrl: string | undefined, database: string) {
  process.env.SAGE_RATE_LIMIT = "1000000/1"; // unthrottled: read by lib/config at first use
  const lib = await import("./lib/sync-bench");
  const appUrl = "http://localhost:3000";
  const sb = sandboxUrl ? await lib.attachSandbox(sandboxUrl) : await lib.startSandboxProcess({ appUrl });
  await sb.setRateLimit(1_000_000_000, 1);
  const app = await lib.startBenchApp({ sandbox: sb, appUrl, database: database as never });
  await app.settings({});
  await lib.presyncOnePerCustomer(app, sb);
  return { lib, sb, app };
}

// ─── speed ───────────────────────────────────────────────────────────────────────────────────────

async function speed(sandboxUrl: string | undefined, opts: { orders: number; reps: number; warmup: number; database: string; explain: boolean }) {
  const { lib, sb, app } = await setupApp(sandboxUrl, opts.database);
  const { getAccessToken } = await import("@/lib/connections/tokens");
  const { getConfig } = await import("@/lib/config");
  const apiUrl = getConfig().sage.apiUrl;
  console.log(`\nP2 speed — ${opts.orders} orders, unthrottled sandbox (own process), ${opts.reps} repetitions, database ${opts.database}`);
  const base: number[] = [];
  const appTimes: number[] = [];
  try {
    const token = await getAccessToken(app.db, app.connectionId);
    const headers = { Authorization: `Bearer ${token.accessToken}`, "X-Business": token.businessId!, "Content-Type": "application/json", Accept: "application/json" };
    /** the bare script: POST each body, one after the other */
    const bare = async (bodies: string[]) => {
      const t = performance.now();
      for (const body of bodies) {
        const res = await fetch(`${apiUrl}/sales_invoices`, { method: "POST", headers, body });
        if (res.status !== 201) throw new Error(`baseline POST answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
      return performance.now() - t;
    };
    // warm-up, not measured: both paths once (JIT on both sides, connections, the sandbox's validators;
    // the sandbox keeps getting faster for the first few thousand invoices)
    {
      const orders = await lib.makeOrders(app, "PR-P2-WARM", opts.warmup);
      await bare(await lib.invoiceBodies(app, orders, "BASE-WARM"));
      await lib.syncAll(app, await lib.recordOrders(app, orders));
    }
    for (let rep = 1; rep <= opts.reps; rep++) {
      // the same orders: bare POSTs of their invoices, and as tasks synced by the app; the order of the
      // two alternates between repetitions so a drift in the sandbox's speed favours neither
      const orders = await lib.makeOrders(app, `PR-P2-${rep}`, opts.orders);
      const bodies = await lib.invoiceBodies(app, orders, `BASE-${rep}`);
      const taskIds = await lib.recordOrders(app, orders);
      let baseMs = 0;
      let appMs = 0;
      const runApp = async () => {
        await sb.clearRequestLog();
        appMs = await lib.syncAll(app, taskIds);
      };
      if (rep % 2 === 1) {
        baseMs = await bare(bodies);
        await runApp();
      } else {
        await runApp();
        baseMs = await bare(bodies);
      }
      base.push(baseMs);
      appTimes.push(appMs);
      const log = lib.apiCalls(await sb.requestLog()).filter((l) => l.route !== "sage.sales_invoices.create" || !String((l.body as { sales_invoice?: { reference?: string } } | undefined)?.sales_invoice?.reference ?? "").startsWith("BASE-"));
      const states = await app.taskStates(taskIds);
      if ((states.synced ?? 0) !== opts.orders) throw new Error(`app run ${rep}: ${JSON.stringify(states)}`);
      console.log(
        `  rep ${rep} (${rep % 2 === 1 ? "baseline first" : "app first"}): baseline ${(baseMs / 1000).toFixed(2)} s (${((baseMs / opts.orders) * 1000).toFixed(0)} µs/invoice) · app ${(appMs / 1000).toFixed(2)} s (${((appMs / opts.orders) * 1000).toFixed(0)} µs/order, ${log.length} Sage calls, ${log.filter((l) => l.status === 429).length} × 429) → ${(appMs / baseMs).toFixed(2)}×`,
      );
      await sb.clearRequestLog();
    }
    if (opts.explain) await explain(lib, app, sb, opts.orders);
    const mBase = lib.median(base);
    const mApp = lib.median(appTimes);
    const ratio = mApp / mBase;
    const pass = base.length > 0 && Number.isFinite(ratio) && ratio <= 1.2;
    console.log(`  ${lib.verdict(pass)}  median app ${(mApp / 1000).toFixed(2)} s vs median baseline ${(mBase / 1000).toFixed(2)} s → ratio ${ratio.toFixed(2)} (target ≤ 1.2)`);
    return { pass, ratio, mApp, mBase };
  } finally {
    await app.close();
    if (!sandboxUrl) await sb.close();
  }
}

/**
 * `--explain`: one more app run (not part of the figures) with every Sage call's start and end
 * recorded, to show where the app's time goes: inside the calls, between consecutive calls (the
 * per-document work: batch loop, typed client, transport) and in the longer pauses (database flushes
 * every 100 documents, the next chunk of 200 being prepared).
 */
async function explain(lib: typeof import("./lib/sync-bench"), app: import("./lib/sync-bench").BenchApp, sb: import("./lib/sync-bench").SandboxProcess, n: number) {
  const orders = await lib.makeOrders(app, "PR-P2-EXPLAIN", n);
  const taskIds = await lib.recordOrders(app, orders);
  const original = globalThis.fetch;
  const spans: [number, number][] = [];
  globalThis.fetch = (async (...a: Parameters<typeof fetch>) => {
    const t = performance.now();
    const res = await original(...a);
    const body = await res.arrayBuffer();
    spans.push([t, performance.now()]);
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }) as typeof fetch;
  const t0 = performance.now();
  let total: number;
  try {
    total = await lib.syncAll(app, taskIds);
  } finally {
    globalThis.fetch = original;
  }
  const sage = spans.filter(([a]) => a >= t0).sort((x, y) => x[0] - y[0]);
  const inCalls = sage.reduce((s, [a, b]) => s + b - a, 0);
  // calls overlap (several writes in flight): the time with at least one call in flight, and the idle stretches between
  const idle: number[] = [];
  let busy = 0;
  let [from, to] = sage[0]!;
  for (const [a, b] of sage.slice(1)) {
    if (a > to) {
      busy += to - from;
      idle.push(a - to);
      [from, to] = [a, b];
    } else to = Math.max(to, b);
  }
  busy += to - from;
  const small = idle.filter((g) => g <= 5);
  const big = idle.filter((g) => g > 5);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  console.log(`  explain (one more app run of ${n}, fetch instrumented, ${sage.length} calls): ${total.toFixed(0)} ms =`);
  console.log(`    ${busy.toFixed(0).padStart(6)} ms with a Sage call in flight (calls took ${((inCalls / sage.length) * 1000).toFixed(0)} µs each, request → response body read, ${(inCalls / busy).toFixed(2)} in flight on average)`);
  console.log(`    ${sum(small).toFixed(0).padStart(6)} ms with none in flight, in ${small.length} stretches ≤ 5 ms`);
  console.log(`    ${sum(big).toFixed(0).padStart(6)} ms with none in flight, in ${big.length} pauses > 5 ms (step starts, flushes, chunk preparation: ${big.map((g) => g.toFixed(0)).join(", ")} ms)`);
  console.log(`    ${(sage[0]![0] - t0).toFixed(0).padStart(6)} ms before the first call, ${(total - (sage[sage.length - 1]![1] - t0)).toFixed(0)} ms after the last`);
  await sb.clearRequestLog();
}

// ─── memory (child process) ──────────────────────────────────────────────────────────────────────

type Sample = { synced: number; when: "idle" | "running"; rss: number; rssAnon: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };

/** V8 returns freed heap pages to the OS only once the isolate is idle (memory reducer): settle first */
const SETTLE_MS = 10_000;

async function memoryChild(sandboxUrl: string, opts: { orders: number; database: string }) {
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = (synced: number, when: Sample["when"]): Sample => {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    const status = fs.readFileSync("/proc/self/status", "utf8");
    const rssAnon = Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    return { synced, when, rss: m.rss, rssAnon, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  };
  const { lib, app } = await setupApp(sandboxUrl, opts.database);
  try {
    const t0 = performance.now();
    const orders = await lib.makeOrders(app, "PR-P2M", opts.orders);
    const taskIds = await lib.recordOrders(app, orders);
    const recordMs = performance.now() - t0;
    const { syncTasks } = await import("@/db/schema");
    const { and, eq, sql } = await import("drizzle-orm");
    const syncedCount = async () => {
      const [row] = await app.db.select({ n: sql<number>`count(*)::int` }).from(syncTasks).where(and(eq(syncTasks.tenantId, app.tenantId), eq(syncTasks.state, "synced")));
      return Number(row?.n ?? 0) - app.customers.length; // minus the pre-sync orders
    };
    await lib.sleep(SETTLE_MS);
    const samples: Sample[] = [sample(0, "idle")];
    const started = performance.now();
    // Sync all of the first 1,000, settle, sample; then Sync all of the rest, sampled while it runs
    await lib.syncAll(app, taskIds.slice(0, 1_000), 1_800_000);
    await lib.sleep(SETTLE_MS);
    samples.push(sample(await syncedCount(), "idle"));
    let next = 2_000;
    let done = false;
    const run = lib.syncAll(app, taskIds.slice(1_000), 1_800_000).finally(() => (done = true));
    while (!done) {
      await lib.sleep(100);
      const n = await syncedCount();
      if (n >= next && n < opts.orders) {
        samples.push(sample(n, "running"));
        next += 2_000;
      }
    }
    await run;
    const syncMs = performance.now() - started - SETTLE_MS;
    const final = await syncedCount();
    samples.push(sample(final, "running"));
    await lib.sleep(SETTLE_MS);
    samples.push(sample(final, "idle"));
    console.log(JSON.stringify({ p2memory: { database: opts.database, label: app.handle.label, orders: opts.orders, synced: final, recordMs, syncMs, samples } }));
  } finally {
    await app.close();
  }
}

async function memory(sandboxUrl: string, opts: { orders: number; database: string }) {
  const lib = await import("./lib/cli");
  // a reset sandbox per database, limit lifted again (reset restores the default config)
  await fetch(`${sandboxUrl}/__sandbox/reset`, { method: "POST" });
  const args = ["--expose-gc", "--import", "tsx", __filename, "--phase=memory-child", `--sandbox-url=${sandboxUrl}`, `--memory-orders=${opts.orders}`, `--db=${opts.database}`];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_OPTIONS: "" } });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`memory child (${opts.database}) exited ${code}:\n${text}`))));
  });
  const line = out.split("\n").find((l) => l.startsWith('{"p2memory"'));
  if (!line) throw new Error(`memory child printed no result:\n${out}`);
  const r = JSON.parse(line).p2memory as { database: string; label: string; orders: number; synced: number; recordMs: number; syncMs: number; samples: Sample[] };
  const idle = r.samples.filter((s) => s.when === "idle");
  const at1000 = idle[1]!;
  const last = idle[idle.length - 1]!;
  const running = r.samples.filter((s) => s.when === "running");
  const growth = (last.rss - at1000.rss) / MB;
  const peak = Math.max(...running.map((s) => s.rss)) / MB;
  // measured only when the second idle sample comes after more orders than the first
  const pass = r.synced === r.orders && last.synced > at1000.synced && Number.isFinite(growth) && growth < 50;
  const kind = r.label.startsWith("pglite:memory") ? "PGlite in memory" : r.label.startsWith("pglite") ? "PGlite in a directory" : "PostgreSQL";
  console.log(`\nP2 memory — ${kind}: ${r.synced} of ${r.orders} orders synced in ${(r.syncMs / 1000).toFixed(1)} s (${((r.syncMs / r.orders) * 1000).toFixed(0)} µs/order; recording the tasks took ${(r.recordMs / 1000).toFixed(1)} s, not measured)`);
  console.log(`  Sync all of the first 1,000, then Sync all of the other ${r.orders - 1_000}; "idle" = ${SETTLE_MS / 1000} s after a run, then gc()`);
  console.log(`  synced  when       rss MB  (anon)  heapTotal MB  heapUsed MB  external MB  arrayBuffers MB`);
  for (const s of r.samples) console.log(`  ${String(s.synced).padStart(6)}  ${s.when.padEnd(7)}  ${(s.rss / MB).toFixed(1).padStart(8)}  ${(s.rssAnon / MB).toFixed(0).padStart(6)}  ${(s.heapTotal / MB).toFixed(1).padStart(12)}  ${(s.heapUsed / MB).toFixed(1).padStart(11)}  ${(s.external / MB).toFixed(1).padStart(11)}  ${(s.arrayBuffers / MB).toFixed(1).padStart(15)}`);
  console.log(`  while the second run was busy: RSS peak ${peak.toFixed(0)} MB (${(peak - at1000.rss / MB).toFixed(0)} MB over the idle figure at ${at1000.synced}; freed heap pages V8 keeps until idle)`);
  console.log(`  ${lib.verdict(pass)}  RSS growth, idle after ${at1000.synced} → idle after ${last.synced} orders synced: ${growth.toFixed(1)} MB (target < 50 MB; heapUsed ${((last.heapUsed - at1000.heapUsed) / MB).toFixed(1)} MB)`);
  return { pass, growth, database: r.database };
}

// ─── main ────────────────────────────────────────────────────────────────────────────────────────

async function main() {
  const { arg, numArg } = await import("./lib/cli");
  const phase = arg("phase", "all");
  if (phase === "memory-child") {
    await memoryChild(arg("sandbox-url")!, { orders: numArg("memory-orders", 20_000), database: arg("db", "pglite-dir") });
    return true;
  }
  const runSpeed = !arg("skip-speed");
  const runMemory = !arg("skip-memory");
  const speedOpts = { orders: numArg("orders", 2_000), reps: numArg("reps", 5), warmup: numArg("warmup", 1_000), database: arg("db", "pglite-memory"), explain: !!arg("explain") };
  const memoryOrders = numArg("memory-orders", 20_000);
  const dbs = arg("memory-db", process.env.DATABASE_URL ? "pglite-dir,postgres" : "pglite-dir").split(",").filter(Boolean);
  // a run that would measure nothing must not print PASS
  const nothing: string[] = [];
  if (!runSpeed && !runMemory) nothing.push("both --skip-speed and --skip-memory were given");
  if (runSpeed && !(speedOpts.orders >= 1 && speedOpts.reps >= 1)) nothing.push(`speed needs --orders ≥ 1 and --reps ≥ 1 (got ${speedOpts.orders}, ${speedOpts.reps})`);
  if (runMemory && !(memoryOrders > 1_000)) nothing.push(`memory compares idle after 1,000 with idle after --memory-orders: it needs more than 1,000 (got ${memoryOrders})`);
  if (runMemory && dbs.length === 0) nothing.push("--memory-db names no database");
  if (nothing.length > 0) {
    console.log(`\nP2 (throughput and memory, unthrottled): FAIL (nothing measured: ${nothing.join("; ")})`);
    return false;
  }
  const { startSandboxProcess } = await import("./lib/sync-bench");
  const sb = await startSandboxProcess({ appUrl: "http://localhost:3000" });
  const results: boolean[] = [];
  try {
    if (runSpeed) results.push((await speed(sb.url, speedOpts)).pass);
    if (runMemory) {
      if (!process.env.DATABASE_URL) console.log("\n(DATABASE_URL not set: the memory figure is for PGlite only)");
      for (const database of dbs) results.push((await memory(sb.url, { orders: memoryOrders, database })).pass);
    }
  } finally {
    await sb.close();
  }
  const pass = results.length > 0 && results.every(Boolean);
  console.log(`\nP2 (throughput and memory, unthrottled): ${results.length === 0 ? "FAIL (nothing measured)" : pass ? "PASS" : "FAIL"}`);
  return pass;
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
