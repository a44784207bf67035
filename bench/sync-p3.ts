/**
 * P3 — instant mode latency: `npx tsx bench/sync-p3.ts [--orders=100] [--db=pglite-dir|pglite-memory|postgres] [--poll=20] [--rate=200/60]`
 *
 * Target: with auto-sync "instant", an order event becomes an invoice in Sage within 2 s (p95) on
 * loopback.
 *
 * The real push path: the sandbox (its own process) is the marketplace; the app is installed, which
 * registers its webhook URL with the marketplace (lib/marketplace/registration.ts). That URL points
 * at a small HTTP server in this process that hands each request to the app's own route handler
 * (app/api/marketplace/events/[installationId]/route.ts: `receiveMarketplaceWebhook` → inbox →
 * `sendEvent`), so the app's process-wide inline Inngest runner (inngest/send.ts, all functions)
 * runs marketplace-event-received → (instant auto-sync) → sync-task. Tenant setting auto-sync =
 * instant, every customer's auto-sync toggle on, products mapped, Sage's rate limit (200 calls /
 * 60 s, app and sandbox alike; `--rate`).
 *
 * Warm-up (not measured): one order per customer, so the Sage contacts exist. Then `orders` purchase
 * orders are placed one at a time through the sandbox's control API with `webhooks: true`; for each,
 * the time from placing it to its invoice (by reference) being in the sandbox's Sage state, polled
 * every 20 ms (the per-business invoice count from `/__sandbox/state`, then the reference checked).
 * Prints p50/p95/max and where the time goes (marketplace → webhook at the app, the app's answer,
 * answer → invoice seen).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

async function main() {
  const { arg, numArg } = await import("./lib/cli");
  const N = numArg("orders", 100);
  const pollMs = numArg("poll", 20);
  const rate = arg("rate", "200/60");
  const database = arg("db", "pglite-dir") as "pglite-memory" | "pglite-dir" | "postgres";
  const [limit, windowSeconds] = rate.split("/").map(Number) as [number, number];
  if (!(Number.isInteger(N) && N >= 1)) {
    // no order timed: a latency target cannot pass on no latency
    console.log(`\nP3 (instant mode latency): FAIL (nothing measured: --orders must be ≥ 1, got ${arg("orders")})`);
    return false;
  }
  process.env.SAGE_RATE_LIMIT = rate; // read by lib/config at first use

  // the app's webhook endpoint: this server → the route handler the app serves it with
  type Arrival = { arrived: number; answered: number; status: number };
  const arrivals = new Map<string, Arrival>();
  let route: ((req: Request, ctx: { params: Promise<{ installationId: string }> }) => Promise<Response>) | undefined;
  const server = http.createServer(async (req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const match = /^\/api\/marketplace\/events\/([^/?]+)/.exec(req.url ?? "");
    if (!match || req.method !== "POST" || !route) {
      res.writeHead(404).end();
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const response = await route(new Request(`http://app${req.url}`, { method: "POST", headers, body: raw }), { params: Promise.resolve({ installationId: match[1]! }) });
    const text = await response.text();
    res.writeHead(response.status, { "content-type": "application/json" }).end(text);
    try {
      const event = JSON.parse(raw.toString("utf8")) as { type?: string; data?: { request?: { id?: string } } };
      const orderId = event.type === "order.created" ? event.data?.request?.id : undefined;
      if (orderId) arrivals.set(orderId, { arrived, answered: performance.now(), status: response.status });
    } catch {
      /* not JSON: the route said so */
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const lib = await import("./lib/sync-bench");
  console.log(`P3 — instant auto-sync: ${N} orders placed one at a time, order event → invoice in Sage (database ${database}, Sage rate limit ${limit}/${windowSeconds} s)`);
  const sb = await lib.startSandboxProcess({ appUrl });
  let app: import("./lib/sync-bench").BenchApp | undefined;
  const { getInlineRunner, resetInlineRunnerForTests } = await import("@/inngest/send");
  try {
    await sb.setRateLimit(limit, windowSeconds);
    await sb.control("config", { webhooks: { enabled: true } });
    app = await lib.startBenchApp({ sandbox: sb, appUrl, database, runner: false });
    // the app's process-wide runner (as inngest/send.ts makes it on first use: every function, crons
    // on), started here only to silence its per-run log lines
    await getInlineRunner({ logger: false });
    route = (await import("@/app/api/marketplace/events/[installationId]/route")).POST;
    const { installations } = await import("@/db/schema");
    const { eq } = await import("drizzle-orm");
    const [inst] = await app.db.select().from(installations).where(eq(installations.id, app.installationId));
    if (!inst?.webhookSecretEncrypted) throw new Error("the installation did not register its webhook URL with the marketplace");
    await app.settings({ autoSync: "instant" });
    const customers = app.customers.map((c) => c.marketplaceCustomerId);
    await app.setAutoSync(customers);

    const businessId = app.businessId;
    const invoiceCount = async () => {
      const s = await sb.get<{ businesses: { id: string; counts: { sales_invoices?: number } }[] }>("state");
      return s.businesses.find((b) => b.id === businessId)?.counts.sales_invoices ?? 0;
    };
    const hasInvoice = async (reference: string) => (await lib.sageInvoices(sb, businessId)).some((i) => i.reference === reference);

    /** place one order (webhooks on) and wait until its invoice is in Sage; ms from placing to seen */
    const placeAndWait = async (customerId: string, mpn: string, quantity: number) => {
      let before = await invoiceCount();
      const started = performance.now();
      const placed = await sb.control<{ ids: string[] }>("marketplace/orders", { account_id: lib.ACCOUNT, orders: [{ type: "purchase", customer_id: customerId, items: [{ mpn, quantity }] }], webhooks: true });
      const orderId = placed.ids[0]!;
      const deadline = started + 30_000;
      for (;;) {
        const count = await invoiceCount();
        const seen = performance.now();
        if (count > before) {
          if (await hasInvoice(orderId)) return { orderId, started, ms: seen - started };
          before = count;
        }
        if (seen > deadline) return { orderId, started, ms: Number.POSITIVE_INFINITY };
        await lib.sleep(pollMs);
      }
    };

    // warm-up: one order per customer (their Sage contacts are created here)
    for (const c of customers) {
      const w = await placeAndWait(c, "M365-BASIC-M", 1);
      if (!Number.isFinite(w.ms)) throw new Error(`warm-up order ${w.orderId} for ${c} never reached Sage`);
    }
    await sb.clearRequestLog();

    const results: { orderId: string; started: number; ms: number }[] = [];
    for (let i = 0; i < N; i++) results.push(await placeAndWait(customers[i % customers.length]!, lib.MAPPED_MPNS[i % lib.MAPPED_MPNS.length]!, 1 + (i % 9)));

    const latencies = results.map((r) => r.ms);
    const missing = latencies.filter((ms) => !Number.isFinite(ms)).length;
    const finite = latencies.filter(Number.isFinite);
    const p50 = lib.percentile(latencies, 50);
    const p95 = lib.percentile(latencies, 95);
    const max = Math.max(...latencies);
    const stage = (f: (r: (typeof results)[number], a: Arrival) => number) => {
      const xs = results.flatMap((r) => {
        const a = arrivals.get(r.orderId);
        return a && Number.isFinite(r.ms) ? [f(r, a)] : [];
      });
      return xs.length ? `p50 ${lib.percentile(xs, 50).toFixed(0)} ms, p95 ${lib.percentile(xs, 95).toFixed(0)} ms` : "n/a";
    };
    const log = lib.apiCalls(await sb.requestLog());
    const invoices = (await lib.sageInvoices(sb, businessId)).filter((i) => results.some((r) => r.orderId === i.reference));
    const once = invoices.length === N && new Set(invoices.map((i) => i.reference)).size === N;

    console.log(`  ${N} orders: order placed → invoice in Sage p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Number.isFinite(max) ? max.toFixed(0) : "never"} ms (min ${Math.min(...finite).toFixed(0)} ms; polled every ${pollMs} ms)`);
    console.log(`    marketplace placed → webhook at the app: ${stage((r, a) => a.arrived - r.started)}`);
    console.log(`    webhook at the app → answered (${[...new Set([...arrivals.values()].map((a) => a.status))].join("/")}): ${stage((_, a) => a.answered - a.arrived)}`);
    console.log(`    answered → invoice seen in Sage: ${stage((r, a) => r.started + r.ms - a.answered)}`);
    console.log(`  Sage calls during the measured orders: ${log.length} (${(log.length / N).toFixed(2)} per order), ${log.filter((l) => l.status === 429).length} × 429; invoices for these orders: ${invoices.length}${once ? ", one each" : " — NOT one each"}`);
    const pass = finite.length === N && N > 0 && p95 <= 2_000 && missing === 0 && once;
    console.log(`  ${lib.verdict(p95 <= 2_000)}  p95 ${p95.toFixed(0)} ms (target ≤ 2000 ms)${missing ? `; ${missing} orders never reached Sage within 30 s` : ""}`);
    console.log(`\nP3 (instant mode latency): ${lib.verdict(pass)}`);
    return pass;
  } finally {
    await resetInlineRunnerForTests().catch(() => {});
    await app?.close();
    await sb.close();
    server.close();
  }
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
