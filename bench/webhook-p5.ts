/**
 * P5 — webhook intake throughput: `npx tsx bench/webhook-p5.ts [--rate=1000] [--duration=30] [--connections=32]
 *   [--baseline-duration=10] [--resend=500] [--drain-timeout=300] [--build] [--port=0] [--only=baseline]`
 *   (`BENCH_SERVER_ARGS` adds node arguments to `next start`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`)
 *
 * Targets: signed marketplace webhooks into `next start` (a production build) on loopback, ≥ 1,000
 * events/s sustained for 30 s with p99 ≤ 50 ms; every accepted event durable (its inbox row
 * committed) before its 2xx, 0 lost, 0 duplicated tasks.
 *
 * What runs:
 * - a fresh PostgreSQL database next to DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 *   created here and dropped at the end;
 * - the sandbox (Sage + marketplace) as its own process; in this process, the app's real code sets the
 *   tenant up as a reseller would (bench/lib/sync-bench.ts: demo tenant installed from the marketplace,
 *   which registers the webhook URL and hands out the installation's webhook secret, Sage authorized,
 *   catalog refreshed, products mapped) on that database;
 * - `next build` (only when `.next` is missing or older than the sources, or `--build`), then
 *   `next start` on a loopback port (NODE_ENV=production, generated development secrets, DATABASE_URL =
 *   the fresh database, the sandbox as Sage and marketplace). No Inngest server is configured, so the
 *   app runs its inline Inngest runner in the same process (inngest/send.ts): intake records the inbox
 *   row, then enqueues `marketplace/event.received` (an `inline_runs` row), and the runner in the same
 *   `next start` process turns the inbox rows into tasks while the load runs;
 * - autocannon (programmatic, in this process) as the marketplace: every request is a new
 *   `order.created` (every 10th an `order.updated` of the order before it) for the installation, with a
 *   new webhook-id (`msg_…`, the sandbox's ids) and the body shape and Standard Webhooks v1 signature
 *   the sandbox marketplace sends (sandbox/marketplace/webhooks.ts), signed as it is sent.
 *
 * Phases: a baseline (the same route with an installation id that is not a UUID: 404 from the route
 * before any database work — Next.js, proxy.ts and the route handler only) at the same rate for
 * `--baseline-duration` s; a 3 s warm-up of the real route (counted like the rest); then the measured
 * `--duration` s at `--rate` events/s over `--connections` keep-alive connections (autocannon's
 * overallRate: each connection sends its share per second, the next request when the last is
 * answered). Latency is per response (autocannon's responseTime), percentiles over every response.
 *
 * After the load: every 202-answered webhook-id has its inbox row (0 lost) and no inbox row exists that
 * was not sent; the processing is let finish (inbox rows all processed); tasks == distinct orders among
 * the accepted events, none twice, one marketplace-event-received run per accepted event; then a
 * sample of accepted webhook-ids is sent again (same id and body, a fresh signature, as the
 * marketplace's retry would) — each must answer 200 `{duplicate:true}` and nothing new is created.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Request as AutocannonRequest } from "autocannon";

type Ledger = { webhookId: string; orderId: string; body: string; status: number; phase: string };

async function main() {
  const { arg, numArg, percentile, verdict, sleep } = await import("./lib/cli");
  const rate = numArg("rate", 1000);
  const duration = numArg("duration", 30);
  const connections = numArg("connections", 32);
  const baselineDuration = numArg("baseline-duration", 10);
  const resendCount = numArg("resend", 500);
  const drainTimeoutS = numArg("drain-timeout", 300);
  if (!(rate > 0 && duration > 0 && connections > 0)) {
    console.log(`\nP5 (webhook intake): FAIL (nothing measured: --rate, --duration and --connections must be > 0)`);
    return false;
  }

  // ── environment, before any app code is loaded: one set of development secrets for this process,
  // the sandbox and `next start` (the webhook secret is encrypted here and decrypted there)
  const lib = await import("./lib/sync-bench");
  const baseUrl = lib.ensurePostgresUrl();
  const secret = () => randomBytes(32).toString("base64");
  Object.assign(process.env, {
    APP_ENCRYPTION_KEY: secret(),
    AUTH_SECRET: secret(),
    OAUTH_STATE_SECRET: secret(),
    MARKETPLACE_SECRET: secret(),
    SAGE_CLIENT_ID: `sage-connector-bench-${randomBytes(6).toString("hex")}`,
    SAGE_CLIENT_SECRET: secret(),
  });
  for (const v of ["INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY", "INNGEST_BASE_URL", "INNGEST_DEV"]) delete process.env[v];
  const port = Number(arg("port", "0")) || (await lib.freePort());
  const appUrl = `http://127.0.0.1:${port}`;

  console.log(`P5 — signed marketplace webhooks into next start (production build) on loopback: ${rate} events/s for ${duration} s over ${connections} connections, PostgreSQL`);
  ensureBuild(lib.ROOT, arg("build") === "1");

  const sb = await lib.startSandboxProcess({ appUrl });
  let app: import("./lib/sync-bench").BenchApp | undefined;
  let server: ChildProcess | undefined;
  let serverOutput = "";
  try {
    // webhooks from the sandbox itself stay off: the bench is the marketplace's sender here
    await sb.control("config", { webhooks: { enabled: false } });
    app = await lib.startBenchApp({ sandbox: sb, appUrl, database: "postgres", runner: false });
    const { eq, and, sql, count, isNull } = await import("drizzle-orm");
    const { installations, inboxEvents, syncTasks, inlineRuns } = await import("@/db/schema");
    const { decryptSecret } = await import("@/lib/crypto/envelope");
    const [inst] = await app.db.select().from(installations).where(eq(installations.id, app.installationId));
    if (!inst?.webhookSecretEncrypted) throw new Error("the installation did not register its webhook URL with the marketplace (no webhook secret)");
    const webhookSecret = decryptSecret(inst.webhookSecretEncrypted);
    const dbUrl = app.handle.env.DATABASE_URL!;
    console.log(`  database ${new URL(dbUrl).pathname.slice(1)} (fresh), installation ${app.installationId}, sandbox ${sb.url}, app ${appUrl}`);

    // ── next start
    const serverEnv: Record<string, string | undefined> = {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_OPTIONS: "",
      DATABASE_URL: dbUrl,
      APP_URL: appUrl,
      SANDBOX_URL: sb.url,
      SAGE_AUTHORIZE_URL: `${sb.url}/sage/oauth2/auth/central?filter=apiv3.1`,
      SAGE_TOKEN_URL: `${sb.url}/sage/oauth/token`,
      SAGE_API_URL: `${sb.url}/sage/v3.1`,
    };
    delete serverEnv.SAGE_CONNECTOR_ALLOW_PGLITE;
    delete serverEnv.PGLITE_DIR;
    server = spawn(process.execPath, [...(process.env.BENCH_SERVER_ARGS ?? "").split(" ").filter(Boolean), path.join(lib.ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
      cwd: lib.ROOT,
      env: serverEnv as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    server.stdout!.on("data", (d) => (serverOutput += d));
    server.stderr!.on("data", (d) => (serverOutput += d));
    let exited = false;
    server.on("exit", () => (exited = true));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (exited) throw new Error(`next start exited:\n${serverOutput.slice(-3000)}`);
      const status = await fetch(`${appUrl}/login`, { redirect: "manual" }).then((r) => r.status).catch(() => 0);
      if (status > 0 && status < 500) break;
      if (Date.now() > deadline) throw new Error(`next start did not answer within 120 s:\n${serverOutput.slice(-3000)}`);
      await sleep(200);
    }
    const serverPid = server.pid!;

    // ── events, made and signed as they are sent (the sandbox marketplace's body and signature)
    const { Webhook } = await import("standardwebhooks");
    const { newEventId } = await import("../sandbox/marketplace/webhooks");
    const signer = new Webhook(webhookSecret);
    const template = (await lib.makeOrders(app, "P5", 8))!;
    const runTag = randomBytes(3).toString("hex").toUpperCase();
    const marketplaceInstallationId = inst.marketplaceInstallationId ?? inst.id;
    let seq = 0;
    const nextEvent = () => {
      const i = seq++;
      // every 10th event: a newer version of the order before it
      const updated = i % 10 === 9;
      const n = updated ? i - 1 : i;
      const base = template[n % template.length]!;
      const now = new Date();
      const order = { ...base, id: `P5-${runTag}-${String(n).padStart(7, "0")}`, updated: now.toISOString(), ...(updated ? {} : { created: now.toISOString() }), asset: { ...base.asset, id: `AS-P5-${runTag}-${n}` } };
      const body = JSON.stringify({ type: updated ? "order.updated" : "order.created", timestamp: now.toISOString(), data: { installation_id: marketplaceInstallationId, account_id: lib.ACCOUNT, request: order } });
      return { webhookId: newEventId(), orderId: order.id, body, at: now };
    };
    const sign = (webhookId: string, body: string, at = new Date()) => ({
      "content-type": "application/json",
      "user-agent": "demo-marketplace-webhooks/1.0",
      "webhook-id": webhookId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signer.sign(webhookId, at, body),
    });

    const ledger: Ledger[] = [];
    const { default: autocannon } = await import("autocannon");
    type Phase = { name: string; latencies: number[]; statuses: Map<number, number>; errors: number; timeouts: number; seconds: number; sent: number; cpu: CpuSample };

    /** one autocannon run; `make` gives each request (called as it is sent) */
    const load = async (name: string, opts: { seconds: number; rate: number; path: string; make: () => { headers: Record<string, string>; body: string; record?: Omit<Ledger, "status" | "phase"> } }): Promise<Phase> => {
      const phase: Phase = { name, latencies: [], statuses: new Map(), errors: 0, timeouts: 0, seconds: 0, sent: 0, cpu: cpuStart(serverPid) };
      let finish!: (r: { errors: number; timeouts: number }) => void;
      let fail!: (e: unknown) => void;
      const done = new Promise<{ errors: number; timeouts: number }>((resolve, reject) => ((finish = resolve), (fail = reject)));
      const instance = autocannon({
        url: appUrl,
        connections,
        // a fixed number of requests (rate × seconds) rather than a duration: autocannon then waits for
        // every answer, none is abandoned in flight when the phase ends
        amount: Math.round(opts.rate * opts.seconds),
        overallRate: opts.rate,
        timeout: 10,
        requests: [
          {
            method: "POST",
            path: opts.path,
            setupRequest: (req: AutocannonRequest, ctx: object) => {
              const context = ctx as { entry?: Ledger };
              const r = opts.make();
              phase.sent += 1;
              if (r.record) {
                const entry: Ledger = { ...r.record, status: 0, phase: name };
                ledger.push(entry);
                context.entry = entry;
              }
              return { ...req, method: "POST" as const, path: opts.path, headers: r.headers, body: r.body };
            },
            onResponse: (status: number, _body: string, ctx: object) => {
              const context = ctx as { entry?: Ledger };
              const entry = context.entry;
              if (entry) entry.status = status;
              context.entry = undefined;
            },
          },
        ],
      }, (err, result) => (err ? fail(err) : finish(result)));
      instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        phase.latencies.push(responseTime);
        phase.statuses.set(statusCode, (phase.statuses.get(statusCode) ?? 0) + 1);
      });
      const started = performance.now();
      const cap = setTimeout(() => instance.stop(), (opts.seconds * 4 + 20) * 1000); // a server far slower than the rate: stop anyway
      const result = await done;
      clearTimeout(cap);
      phase.seconds = (performance.now() - started) / 1000;
      phase.errors = result.errors;
      phase.timeouts = result.timeouts;
      phase.cpu = cpuEnd(phase.cpu, serverPid);
      return phase;
    };

    const report = (p: Phase) => {
      const ok = [...p.statuses].filter(([s]) => s >= 200 && s < 300).reduce((a, [, n]) => a + n, 0);
      const other = [...p.statuses].filter(([s]) => s < 200 || s >= 300).map(([s, n]) => `${n} × ${s}`);
      const lat = p.latencies;
      const f = (x: number) => (lat.length ? x.toFixed(1) : "n/a");
      console.log(`  ${p.name}: ${p.sent} sent in ${p.seconds.toFixed(1)} s, ${ok} × 2xx (${[...p.statuses].filter(([s]) => s < 300).map(([s, n]) => `${n} × ${s}`).join(", ") || "none"}), ${(ok / p.seconds).toFixed(0)} /s; latency p50 ${f(percentile(lat, 50))} ms, p95 ${f(percentile(lat, 95))} ms, p99 ${f(percentile(lat, 99))} ms, max ${f(Math.max(...lat))} ms`);
      console.log(`    non-2xx: ${other.length ? other.join(", ") : "none"}; errors ${p.errors} (timeouts ${p.timeouts}); CPU: next start ${p.cpu.server.toFixed(1)} s (${((p.cpu.server / p.seconds) * 100).toFixed(0)} % of a core), load generator ${p.cpu.self.toFixed(1)} s, machine ${((p.cpu.machineBusy / p.cpu.machineTotal) * 100).toFixed(0)} % busy of ${p.cpu.cores} cores`);
      return { ok, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), other: other.length };
    };

    // ── baseline: the same route, refused before any database work (installation id not a UUID → 404)
    const probe = nextEvent();
    seq = 0;
    const baseline = await load("baseline (POST /api/marketplace/events/not-an-installation → 404)", {
      seconds: baselineDuration,
      rate,
      path: "/api/marketplace/events/not-an-installation",
      make: () => ({ headers: sign(probe.webhookId, probe.body), body: probe.body }),
    });
    if (arg("only") === "baseline") {
      report(baseline);
      return false;
    }
    const webhookPath = `/api/marketplace/events/${app.installationId}`;
    const makeSigned = () => {
      const e = nextEvent();
      return { headers: sign(e.webhookId, e.body, e.at), body: e.body, record: { webhookId: e.webhookId, orderId: e.orderId, body: e.body } };
    };
    const warm = await load("warm-up (signed webhooks, 3 s)", { seconds: 3, rate: Math.min(rate, 300), path: webhookPath, make: makeSigned });
    const measured = await load(`measured (signed webhooks: ${Math.round(rate * duration)} at ${rate}/s, planned ${duration} s)`, { seconds: duration, rate, path: webhookPath, make: makeSigned });

    console.log(`\n  figures`);
    const b = report(baseline);
    report(warm);
    const m = report(measured);
    const eventsPerS = m.ok / measured.seconds;
    console.log(`  ratio to the bare endpoint (same server, same rate): p50 ${(m.p50 / b.p50).toFixed(2)}×, p99 ${(m.p99 / b.p99).toFixed(2)}×`);

    // ── durability: every 202 has its inbox row; nothing recorded that was not sent
    await sleep(1_000); // a request the load generator gave up on (timeout) may still be finishing on the server
    const accepted = ledger.filter((l) => l.status === 202);
    const unanswered = ledger.filter((l) => l.status === 0);
    const inboxIds = new Set((await app.db.select({ id: inboxEvents.webhookId }).from(inboxEvents).where(eq(inboxEvents.installationId, app.installationId))).map((r) => r.id));
    const sentIds = new Set(ledger.map((l) => l.webhookId));
    const lost = accepted.filter((l) => !inboxIds.has(l.webhookId)).length;
    const strangers = [...inboxIds].filter((id) => !sentIds.has(id)).length;
    const recordedUnanswered = unanswered.filter((l) => inboxIds.has(l.webhookId)).length;
    const otherStatus = ledger.filter((l) => l.status !== 202 && l.status !== 0).length;
    console.log(`\n  after the load: ${ledger.length} events sent (warm-up + measured), ${accepted.length} accepted (202), ${otherStatus} other answers, ${unanswered.length} unanswered (${recordedUnanswered} of them recorded anyway)`);
    console.log(`    inbox rows ${inboxIds.size}; accepted without an inbox row (lost) ${lost}; inbox rows never sent ${strangers}`);

    // ── processing: let the app's runner finish, then tasks == distinct orders
    const drainStarted = performance.now();
    const loadEnded = drainStarted;
    let pending = -1;
    let runsOpen = -1;
    for (;;) {
      const [row] = await app.db.select({ n: count() }).from(inboxEvents).where(and(eq(inboxEvents.installationId, app.installationId), isNull(inboxEvents.processedAt)));
      pending = Number(row?.n ?? 0);
      const [open] = await app.db.select({ n: count() }).from(inlineRuns).where(and(eq(inlineRuns.functionId, "marketplace-event-received"), sql`${inlineRuns.status} in ('queued', 'running')`));
      runsOpen = Number(open?.n ?? 0);
      if (pending === 0 && runsOpen === 0) break;
      if (exited) throw new Error(`next start exited during the processing:\n${serverOutput.slice(-3000)}`);
      if (performance.now() - drainStarted > drainTimeoutS * 1000) break;
      await sleep(1000);
    }
    const drainS = (performance.now() - drainStarted) / 1000;
    const acceptedOrders = new Set(accepted.map((l) => l.orderId));
    // every recorded event is processed, answered or not (an unanswered one the marketplace would retry)
    const recordedOrders = new Set(ledger.filter((l) => inboxIds.has(l.webhookId)).map((l) => l.orderId));
    // read before the tasks: a row is processed in the transaction that records its task, so none read here lacks it
    const processedIds = new Set((await app.db.select({ id: inboxEvents.webhookId }).from(inboxEvents).where(and(eq(inboxEvents.installationId, app.installationId), sql`${inboxEvents.processedAt} is not null`))).map((r) => r.id));
    const tasks = await app.db.select({ orderId: syncTasks.marketplaceOrderId }).from(syncTasks).where(eq(syncTasks.tenantId, app.tenantId));
    const taskOrders = new Map<string, number>();
    for (const t of tasks) taskOrders.set(t.orderId, (taskOrders.get(t.orderId) ?? 0) + 1);
    const duplicateTasks = [...taskOrders.values()].filter((n) => n > 1).length;
    const missingTasks = [...acceptedOrders].filter((o) => !taskOrders.has(o)).length;
    // what the processing has applied so far (all of it, once the drain finished): each of those orders has its one task
    const processedOrders = new Set(ledger.filter((l) => processedIds.has(l.webhookId)).map((l) => l.orderId));
    const processedWithoutTask = [...processedOrders].filter((o) => !taskOrders.has(o)).length;
    console.log(`    applied: ${processedIds.size} of ${inboxIds.size} inbox rows (${(processedIds.size / Math.max(1, (performance.now() - loadEnded) / 1000)).toFixed(0)} /s since the load ended), their ${processedOrders.size} distinct orders: ${processedWithoutTask} without a task`);
    const runs = await app.db
      .select({ status: inlineRuns.status, n: count() })
      .from(inlineRuns)
      .where(eq(inlineRuns.functionId, "marketplace-event-received"))
      .groupBy(inlineRuns.status);
    const runCount = runs.reduce((a, r) => a + Number(r.n), 0);
    const [errored] = await app.db.select({ n: count() }).from(inboxEvents).where(and(eq(inboxEvents.installationId, app.installationId), sql`${inboxEvents.error} is not null`));
    console.log(`    processing: ${pending === 0 && runsOpen === 0 ? `every inbox row processed and every run finished ${drainS.toFixed(1)} s after the load ended` : `${pending} inbox rows unprocessed, ${runsOpen} runs not finished after ${drainS.toFixed(0)} s`}; inbox rows with an error ${Number(errored?.n ?? 0)}`);
    console.log(`    tasks ${tasks.length} for ${recordedOrders.size} distinct orders in the inbox (${acceptedOrders.size} among the accepted events); orders with more than one task ${duplicateTasks}; accepted orders without a task ${missingTasks}; marketplace-event-received runs ${runCount} (${runs.map((r) => `${r.n} ${r.status}`).join(", ")}) for ${inboxIds.size} inbox rows`);

    // ── re-send a sample of accepted webhook-ids (same id and body, fresh signature): 200 duplicate, nothing new
    const sample = accepted.filter((_, i) => i % Math.max(1, Math.floor(accepted.length / Math.max(1, resendCount))) === 0).slice(0, resendCount);
    let dupOk = 0;
    const dupOther = new Map<string, number>();
    for (let i = 0; i < sample.length; i += 16) {
      await Promise.all(
        sample.slice(i, i + 16).map(async (l) => {
          const res = await fetch(`${appUrl}${webhookPath}`, { method: "POST", headers: sign(l.webhookId, l.body), body: l.body });
          const json = (await res.json().catch(() => ({}))) as { duplicate?: boolean };
          if (res.status === 200 && json.duplicate === true) dupOk += 1;
          else dupOther.set(String(res.status), (dupOther.get(String(res.status)) ?? 0) + 1);
        }),
      );
    }
    await sleep(2_000); // anything they wrongly enqueued would be running by now
    const [inboxAfter] = await app.db.select({ n: count() }).from(inboxEvents).where(eq(inboxEvents.installationId, app.installationId));
    const [tasksAfter] = await app.db.select({ n: count() }).from(syncTasks).where(eq(syncTasks.tenantId, app.tenantId));
    const [runsAfter] = await app.db.select({ n: count() }).from(inlineRuns).where(eq(inlineRuns.functionId, "marketplace-event-received"));
    // tasks are compared only once the processing has finished (before that they still grow from the load's own events)
    const drained = pending === 0 && runsOpen === 0;
    const createdNothing = Number(inboxAfter?.n) === inboxIds.size && Number(runsAfter?.n) === runCount && (!drained || Number(tasksAfter?.n) === tasks.length);
    console.log(`    re-sent ${sample.length} accepted webhook-ids: ${dupOk} × 200 duplicate${dupOther.size ? `, ${[...dupOther].map(([s, n]) => `${n} × ${s}`).join(", ")}` : ""}; afterwards inbox ${inboxAfter?.n}, tasks ${tasksAfter?.n}, runs ${runsAfter?.n} (${createdNothing ? `no inbox row, no run${drained ? ", no task" : ""} created` : "SOMETHING WAS CREATED"})`);

    // ── verdicts
    const measuredSomething = measured.latencies.length > 0 && m.ok > 0;
    const passRate = measuredSomething && eventsPerS >= 1000 && m.other === 0 && measured.errors === 0;
    const passP99 = measuredSomething && m.p99 <= 50;
    const passLost = measuredSomething && lost === 0 && strangers === 0;
    const passTasks = measuredSomething && pending === 0 && runsOpen === 0 && tasks.length === recordedOrders.size && duplicateTasks === 0 && missingTasks === 0 && runCount === inboxIds.size;
    const passResend = measuredSomething && sample.length > 0 && dupOk === sample.length && createdNothing;
    console.log(`\n  ${verdict(passRate)}  throughput ${eventsPerS.toFixed(0)} events/s accepted over ${measured.seconds.toFixed(1)} s (target ≥ 1000, no non-2xx, no errors)`);
    console.log(`  ${verdict(passP99)}  p99 ${measuredSomething ? m.p99.toFixed(1) : "n/a"} ms (target ≤ 50 ms)`);
    console.log(`  ${verdict(passLost)}  0 lost: ${lost} accepted without an inbox row, ${strangers} inbox rows never sent`);
    console.log(`  ${verdict(passTasks)}  tasks == distinct orders (${tasks.length} / ${recordedOrders.size}), ${duplicateTasks} duplicated, ${missingTasks} accepted orders without a task, one run per inbox row (${runCount} / ${inboxIds.size})`);
    console.log(`  ${verdict(passResend)}  re-sent webhook-ids answer 200 duplicate and create nothing (${dupOk} / ${sample.length})`);
    const pass = passRate && passP99 && passLost && passTasks && passResend;
    console.log(`\nP5 (webhook intake): ${verdict(pass)}${measuredSomething ? "" : " (nothing measured)"}`);
    if (process.env.BENCH_SERVER_LOG) fs.writeFileSync(process.env.BENCH_SERVER_LOG, serverOutput);
    return pass;
  } finally {
    if (server?.pid && server.exitCode === null) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {}
      const until = Date.now() + 5_000;
      while (server.exitCode === null && server.signalCode === null && Date.now() < until) await sleep(50);
      if (server.exitCode === null && server.signalCode === null) {
        try {
          process.kill(-server.pid, "SIGKILL");
        } catch {}
      }
    }
    await app?.close();
    await sb.close();
    void baseUrl;
  }
}

// ── CPU accounting (Linux /proc): the server process, this process, the machine

type CpuSample = { t0: { server: number; self: NodeJS.CpuUsage; busy: number; total: number }; server: number; self: number; machineBusy: number; machineTotal: number; cores: number };
function procCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (100 Hz)
  } catch {
    return 0;
  }
}
function machineTicks() {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const idle = line[3]! + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
function cpuStart(serverPid: number): CpuSample {
  const m = machineTicks();
  return { t0: { server: procCpuSeconds(serverPid), self: process.cpuUsage(), busy: m.busy, total: m.total }, server: 0, self: 0, machineBusy: 0, machineTotal: 1, cores: 1 };
}
function cpuEnd(s: CpuSample, serverPid: number): CpuSample {
  const m = machineTicks();
  const self = process.cpuUsage(s.t0.self);
  const cores = fs.readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d+ /.test(l)).length;
  return { ...s, server: procCpuSeconds(serverPid) - s.t0.server, self: (self.user + self.system) / 1e6, machineBusy: m.busy - s.t0.busy, machineTotal: Math.max(1, m.total - s.t0.total), cores };
}

// ── the production build (as scripts/demo.mjs decides it: missing or older than the sources)

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", ".next", process.env.NEXT_DIST_DIR ?? ".next", ".data", ".git", "tests", "e2e", "bench", "sandbox", "test-results", "docs", "scripts"].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}
function ensureBuild(root: string, force: boolean) {
  const buildId = path.join(root, process.env.NEXT_DIST_DIR ?? ".next", "BUILD_ID");
  const stale = !fs.existsSync(buildId) || newestMtime(root) > fs.statSync(buildId).mtimeMs;
  if (!force && !stale) return;
  console.log(`  building the app (next build${force ? ", --build" : ", the build is missing or older than the sources"})…`);
  const started = Date.now();
  const build = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], { cwd: root, env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (build.status !== 0) throw new Error(`next build failed:\n${(build.stdout ?? "").slice(-3000)}\n${(build.stderr ?? "").slice(-3000)}`);
  console.log(`  built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
