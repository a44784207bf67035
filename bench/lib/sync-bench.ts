/**
 * Shared set-up for the sync benchmarks (bench/sync-p1.ts, sync-p2.ts, sync-p3.ts).
 *
 * - the Sage/marketplace sandbox runs as a **separate process** (`node --import tsx sandbox/server.ts`),
 *   so its CPU and memory are not the app's;
 * - the app side is the real code: seeded demo tenant, installed from the marketplace, Sage authorized
 *   over HTTP (consent page → central redirector → callback), marketplace catalog and customers
 *   refreshed through the marketplace API, Sage items/contacts cached through the Sage API, products
 *   mapped, and an `InlineRunner` running the real Inngest functions.
 *
 * Import this module only after the environment is set (SAGE_RATE_LIMIT etc. are read at first use).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import { setDatabaseHandleForTests, type Database } from "@/db/client";
import { connections, customerMappings, inlineRuns, marketplaceCustomers, marketplaceProducts, productMappings, sageItems, syncTasks, tenants, users } from "@/db/schema";
import { marketplaceEventReceivedFn } from "@/inngest/functions/marketplace-event-received";
import { syncBatch } from "@/inngest/functions/sync-batch";
import { syncTask } from "@/inngest/functions/sync-task";
import { InlineRunner, type InlineRunnerOptions } from "@/inngest/inline-runner";
import { resetConfigForTests } from "@/lib/config";
import { completeSageAuthorization, startSageAuthorization } from "@/lib/connections/authorize";
import { installFromMarketplace } from "@/lib/install/install";
import { refreshFromMarketplace } from "@/lib/mapping/marketplace-refresh";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { seedDemo, DEMO_ADMIN, DEMO_TENANT } from "@/lib/seed/demo";
import { saveSettings, DEFAULT_SETTINGS, type SettingsInput } from "@/lib/settings/settings";
import { openTestDatabase, type TestDatabase } from "../../tests/helpers/db";
import { answerSageConsent } from "../../tests/helpers/sage-consent";
import { sleep } from "./cli";

export * from "./cli";

export const ROOT = path.resolve(__dirname, "../..");
export const ACCOUNT = DEMO_TENANT.marketplaceAccountId; // RES-1001

/** marketplace mpn → Sage item code (the sandbox seeds these services/products in every GB business) */
export const MPN_TO_SAGE: Record<string, string> = {
  "M365-BASIC-M": "M365-BASIC",
  "M365-STANDARD-M": "M365-STANDARD",
  "BACKUP-50GB": "BACKUP-50GB",
  "YUBIKEY-5": "YUBIKEY-5",
};
export const MAPPED_MPNS = Object.keys(MPN_TO_SAGE);

// ─── the sandbox, as its own process ─────────────────────────────────────────────────────────────

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export type RequestLogLine = { seq: number; route?: string; method: string; path: string; status?: number | null; rate_limited?: boolean; duration_ms?: number; at?: string; [k: string]: unknown };

export type SandboxProcess = ReturnType<typeof sandboxClient>;

/**
 * `sageUsers`: N extra Sage users, each with one GB business of its own (bench/lib/sandbox-with-businesses.ts;
 * consent label `Bench Owner NN (1 business)`).
 */
/** Node arguments for a spawned bench process from an environment variable (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
function extraNodeArgs(variable: "BENCH_SANDBOX_ARGS" | "BENCH_WORKER_ARGS"): string[] {
  return (process.env[variable] ?? "").split(" ").filter(Boolean);
}

export async function startSandboxProcess(opts: { appUrl: string; sageUsers?: number }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const entry = opts.sageUsers ? "bench/lib/sandbox-with-businesses.ts" : "sandbox/server.ts";
  const child: ChildProcess = spawn(process.execPath, [...extraNodeArgs("BENCH_SANDBOX_ARGS"), "--import", "tsx", entry], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SANDBOX_HOST: "127.0.0.1", APP_URL: opts.appUrl, NODE_OPTIONS: "", BENCH_SAGE_USERS: String(opts.sageUsers ?? 0) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  let exited = false;
  child.on("exit", () => (exited = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`sandbox process exited:\n${output}`);
    const ok = await fetch(`${url}/__sandbox/health`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`sandbox did not start:\n${output}`);
    await sleep(100);
  }
  return sandboxClient(url, async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const until = Date.now() + 5_000;
    while (!exited && Date.now() < until) await sleep(50);
    if (!exited) child.kill("SIGKILL");
  });
}

/** A sandbox some other process started. */
export async function attachSandbox(url: string) {
  return sandboxClient(url, async () => {});
}

function sandboxClient(url: string, close: () => Promise<void>) {
  const sb = {
    url,
    async get<T = unknown>(p: string): Promise<T> {
      const res = await fetch(`${url}/__sandbox/${p}`);
      if (!res.ok) throw new Error(`sandbox GET ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async control<T = Record<string, unknown>>(p: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}/__sandbox/${p}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) });
      const text = await res.text();
      if (!res.ok) throw new Error(`sandbox control ${p}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
    async requestLog(): Promise<RequestLogLine[]> {
      const text = await (await fetch(`${url}/__sandbox/requests`)).text();
      return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestLogLine);
    },
    async clearRequestLog() {
      await fetch(`${url}/__sandbox/requests`, { method: "DELETE" });
    },
    async setRateLimit(limit: number, windowSeconds: number) {
      await sb.control("config", { rateLimit: { limit, windowSeconds, retryAfter: true } });
    },
    close,
  };
  return sb;
}

/** Sage API calls (the rate-limited `/sage/v3.1` routes) in a request log. */
export const apiCalls = (log: RequestLogLine[]) => log.filter((l) => l.path.startsWith("/sage/v3.1"));

// ─── the app side ────────────────────────────────────────────────────────────────────────────────

export type DatabaseKind = "pglite-memory" | "pglite-dir" | "postgres";

/** A fresh database of the given kind (postgres needs DATABASE_URL: a new database is created next to it). */
export async function openBenchDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const saved = process.env.DATABASE_URL;
  try {
    if (kind === "postgres") {
      if (!saved) throw new Error("postgres needs DATABASE_URL");
    } else delete process.env.DATABASE_URL;
    return await openTestDatabase({ persistent: kind === "pglite-dir" });
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
}

export type BenchApp = Awaited<ReturnType<typeof startBenchApp>>;
export type BenchTenant = Awaited<ReturnType<typeof setupBenchTenant>>;

/**
 * The app against a running sandbox: a connected, installed tenant with the marketplace catalog and
 * customers, Sage's items cached and four products mapped. `runner` runs sync-task, sync-batch and
 * marketplace-event-received (the functions this bench exercises).
 */
export async function startBenchApp(opts: {
  sandbox: SandboxProcess;
  appUrl: string;
  database: DatabaseKind;
  /** options for the bench's own InlineRunner; `false`: none (the app's process-wide runner, inngest/send.ts, does the work) */
  runner?: Partial<Omit<InlineRunnerOptions, "db" | "functions">> | false;
}) {
  const { handle, db } = await openBenchApp(opts);
  await seedDemo(db);
  const tenant = await setupBenchTenant(db, { account: ACCOUNT });

  const runner = opts.runner === false ? undefined : new InlineRunner({ db, functions: [syncTask, syncBatch, marketplaceEventReceivedFn], logger: false, cron: false, ...opts.runner });
  runner?.start();

  const app = {
    ...tenant,
    handle,
    get runner(): InlineRunner {
      if (!runner) throw new Error("this bench app has no runner of its own");
      return runner;
    },
    async close() {
      await runner?.stop({ timeoutMs: 5_000 }).catch(() => {});
      setDatabaseHandleForTests(undefined);
      await handle.drop().catch(() => {});
    },
  };
  return app;
}

/** The app's environment pointed at the sandbox, and a fresh database of the given kind as the app's database. */
export async function openBenchApp(opts: { sandbox: SandboxProcess; appUrl: string; database: DatabaseKind }) {
  process.env.SANDBOX_URL = opts.sandbox.url;
  process.env.APP_URL = opts.appUrl;
  resetConfigForTests();
  const handle = await openBenchDatabase(opts.database);
  setDatabaseHandleForTests(handle);
  return { handle, db: handle.db };
}

/**
 * One reseller, set up the way a real one is: installed from the marketplace, Sage authorized over
 * HTTP (consent page → central redirector → callback), the Mapping screen's two refreshes, four
 * products mapped. `account` RES-1001 is the seeded demo tenant (seedDemo first); any other account
 * gets its own tenant and admin. `sageUser`: the consent page's user to pick (default: the sandbox's
 * one-business user).
 */
export async function setupBenchTenant(db: Database, opts: { account: string; sageUser?: RegExp }) {
  let tenantId: string;
  let admin: { id: string; email: string };
  if (opts.account === ACCOUNT) {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.marketplaceAccountId, ACCOUNT));
    const [row] = await db.select().from(users).where(eq(users.email, DEMO_ADMIN.email));
    if (!tenant || !row) throw new Error("the demo tenant is not seeded (seedDemo first)");
    tenantId = tenant.id;
    admin = row;
  } else {
    const [tenant] = await db.insert(tenants).values({ marketplaceAccountId: opts.account, name: `Reseller ${opts.account}` }).returning();
    const [row] = await db.insert(users).values({ email: `admin@${opts.account.toLowerCase()}.test`, name: `Admin ${opts.account}`, role: "reseller_admin", tenantId: tenant!.id }).returning();
    tenantId = tenant!.id;
    admin = row!;
  }
  const actor = { type: "user" as const, id: admin.id, label: admin.email };

  const { installation } = await installFromMarketplace(db, { tenantId, marketplaceId: "demo-marketplace", accountId: opts.account, actor });
  const url = await startSageAuthorization(db, { tenantId, userId: admin.id, product: "sage-accounting", country: "gb" });
  const sageRedirect = await answerSageConsent(url, { userLabel: opts.sageUser ?? /\(1 business\)/, decision: "allow" });
  const forward = await decideOAuthRedirect(sageRedirect.searchParams);
  if (forward.kind !== "forward") throw new Error(`redirector rejected: ${forward.message}`);
  const outcome = await completeSageAuthorization(db, { tenantId, actor, params: new URL(forward.location).searchParams });
  const [connection] = await db.select().from(connections).where(eq(connections.tenantId, tenantId));
  if (!connection?.businessId) throw new Error(`Sage authorization did not connect a business: ${JSON.stringify(outcome)}`);

  // what the Mapping screen's two refreshes do, then the mappings
  const market = await refreshFromMarketplace(db, { tenantId, actor });
  if (!market.ok) throw new Error(`marketplace refresh failed: ${market.message}`);
  const sage = await refreshSageCatalog(db, { tenantId, actor });
  if (!sage.ok) throw new Error(`Sage refresh failed: ${sage.message}`);
  const items = await db.select().from(sageItems).where(eq(sageItems.connectionId, connection.id));
  const products = await db.select().from(marketplaceProducts).where(and(eq(marketplaceProducts.tenantId, tenantId), inArray(marketplaceProducts.mpn, MAPPED_MPNS)));
  await db.insert(productMappings).values(
    products.map((p) => {
      const item = items.find((i) => i.itemCode === MPN_TO_SAGE[p.mpn]);
      if (!item) throw new Error(`no Sage item ${MPN_TO_SAGE[p.mpn]} in the cache`);
      return { tenantId, productId: p.id, sageItemId: item.sageId, sageItemType: item.type, sageItemCode: item.itemCode, sageItemName: item.description };
    }),
  );
  const customers = await db.select().from(marketplaceCustomers).where(eq(marketplaceCustomers.tenantId, tenantId));

  return {
    db,
    account: opts.account,
    tenantId,
    actor,
    installationId: installation.id,
    connectionId: connection.id,
    businessId: connection.businessId,
    /** marketplace customer ids (TA-1001-000x), GBP ones first */
    customers: customers.sort((a, b) => (a.currency === b.currency ? a.marketplaceCustomerId.localeCompare(b.marketplaceCustomerId) : a.currency === "GBP" ? -1 : 1)),
    async settings(values: Partial<SettingsInput>) {
      await saveSettings(db, { tenantId, actor, values: { ...DEFAULT_SETTINGS, ...values } });
    },
    async setAutoSync(customerIds: string[]) {
      const rows = customers.filter((c) => customerIds.includes(c.marketplaceCustomerId));
      for (const c of rows) {
        await db.insert(customerMappings).values({ tenantId, customerId: c.id, autoSync: true }).onConflictDoUpdate({ target: [customerMappings.tenantId, customerMappings.customerId], set: { autoSync: true } });
      }
    },
    async taskStates(taskIds?: string[]) {
      const rows = await db
        .select({ state: syncTasks.state, id: syncTasks.id })
        .from(syncTasks)
        .where(taskIds ? and(eq(syncTasks.tenantId, tenantId), inArray(syncTasks.id, taskIds)) : eq(syncTasks.tenantId, tenantId));
      const counts: Record<string, number> = {};
      for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
      return counts;
    },
    async orderIds(taskIds: string[]) {
      const rows = await db.select({ orderId: syncTasks.marketplaceOrderId }).from(syncTasks).where(and(eq(syncTasks.tenantId, tenantId), inArray(syncTasks.id, taskIds)));
      return rows.map((r) => r.orderId);
    },
  };
}

/**
 * What "Sync all" sends, run to the end: one `sync/batch.requested` for the given tasks. Returns the
 * ms from the send to the run's completion as the runner stamped it (`inline_runs.updated_at`).
 * Completion is polled every 250 ms without kicking the runner: InlineRunner.waitForRun (a test
 * helper) polls every 25 ms and kicks the runner each time, which on PGlite costs the sync itself
 * ~0.3 s of database time per 2,000 orders — the benchmark must not slow down what it measures.
 */
export async function syncAll(app: BenchApp, taskIds: string[], timeoutMs = 600_000): Promise<number> {
  const { SYNC_BATCH_REQUESTED } = await import("@/inngest/functions/sync-batch");
  const { createSyncBatch } = await import("@/lib/sync/batches");
  const started = Date.now();
  const { batchId } = await createSyncBatch(app.db, { tenantId: app.tenantId, connectionId: app.connectionId, trigger: "sync_all", actor: { type: "user", label: "bench" }, taskIds });
  const { runIds } = await app.runner.send({ name: SYNC_BATCH_REQUESTED, data: { tenantId: app.tenantId, connectionId: app.connectionId, batchId } });
  let finished = started;
  for (const id of runIds) {
    for (;;) {
      // status only: the run row also holds the event (every task id), which is not ours to re-read
      const [run] = await app.db.select({ status: inlineRuns.status, updatedAt: inlineRuns.updatedAt, lastError: inlineRuns.lastError }).from(inlineRuns).where(eq(inlineRuns.id, id));
      if (run?.status === "completed") {
        finished = Math.max(finished, run.updatedAt.getTime());
        break;
      }
      if (!run || run.status === "failed") throw new Error(`sync-batch run ${id} ${run?.status}: ${run?.lastError ?? ""}`);
      if (Date.now() - started > timeoutMs) throw new Error(`sync-batch run ${id} still ${run.status} after ${timeoutMs} ms`);
      await sleep(250);
    }
  }
  return finished - started;
}

export type SageStateDoc = { id: string; reference?: string | null; contact?: { id: string } | null; status?: { id: string } };
export async function sageInvoices(sb: SandboxProcess, businessId: string): Promise<SageStateDoc[]> {
  const state = await sb.get<{ sales_invoices: SageStateDoc[] }>(`state?business=${businessId}`);
  return state.sales_invoices;
}


// ─── orders ──────────────────────────────────────────────────────────────────────────────────────

/**
 * One order per marketplace customer, placed on the sandbox marketplace, pulled with Check Changes
 * and synced with "Sync all": afterwards every customer has its Sage contact and the items and the
 * business defaults are cached — the state the targets are measured in.
 */
export async function presyncOnePerCustomer(app: BenchApp, sb: SandboxProcess) {
  const { checkChanges } = await import("@/lib/marketplace/check-changes");
  const { prepareSyncRequest } = await import("@/lib/sync/dispatch");
  const customerIds = app.customers.map((c) => c.marketplaceCustomerId);
  await sb.control("marketplace/orders", { account_id: ACCOUNT, orders: customerIds.map((customer_id) => ({ type: "purchase", customer_id, items: [{ mpn: "M365-BASIC-M", quantity: 1 }] })), webhooks: false });
  await checkChanges(app.db, { tenantId: app.tenantId, actor: app.actor });
  const pre = await prepareSyncRequest(app.db, { tenantId: app.tenantId });
  await syncAll(app, pre.taskIds);
  const states = await app.taskStates(pre.taskIds);
  if ((states.synced ?? 0) !== pre.taskIds.length) throw new Error(`pre-sync did not sync every order: ${JSON.stringify(states)}`);
  return { orders: pre.taskIds.length, states };
}

/**
 * `count` purchase orders shaped like the marketplace's (deterministic: customer i mod 8, one or two
 * mapped items, marketplace prices), for recording straight into tasks (`recordOrder`).
 */
export async function makeOrders(app: BenchApp, prefix: string, count: number) {
  const products = await app.db.select().from(marketplaceProducts).where(and(eq(marketplaceProducts.tenantId, app.tenantId), inArray(marketplaceProducts.mpn, MAPPED_MPNS)));
  const byMpn = new Map(products.map((p) => [p.mpn, p]));
  const created = new Date().toISOString();
  const orders: import("@/lib/marketplace/api-schemas").MarketplaceRequestDto[] = [];
  for (let i = 0; i < count; i++) {
    const c = app.customers[i % app.customers.length]!;
    const lines = i % 3 === 0 ? 2 : 1;
    const items = Array.from({ length: lines }, (_, k) => {
      const p = byMpn.get(MAPPED_MPNS[(i + k) % MAPPED_MPNS.length]!)!;
      return { id: p.marketplaceProductId, mpn: p.mpn, name: p.name, quantity: String(1 + ((i * 7 + k) % 25)), old_quantity: "0", unit_price: p.unitPrice ?? "1.00" };
    });
    orders.push({
      id: `${prefix}-${String(i + 1).padStart(6, "0")}`,
      type: "purchase",
      status: "approved",
      created,
      updated: created,
      currency: c.currency ?? "GBP",
      billing_period: "monthly",
      account_id: ACCOUNT,
      asset: { id: `AS-${prefix}-${i + 1}`, items, tiers: { customer: { id: c.marketplaceCustomerId, name: c.name, contact_info: { email: c.email }, currency: c.currency } } },
      marketplace: { id: "demo-marketplace" },
    } as import("@/lib/marketplace/api-schemas").MarketplaceRequestDto);
  }
  return orders;
}

/** Orders → pending tasks through `recordOrder` (the function push and pull share), a few hundred per transaction. */
export async function recordOrders(app: BenchApp, orders: Awaited<ReturnType<typeof makeOrders>>, perTransaction = 500): Promise<string[]> {
  const { recordOrder } = await import("@/lib/tasks/record-order");
  const ids: string[] = [];
  for (let i = 0; i < orders.length; i += perTransaction) {
    const chunk = orders.slice(i, i + perTransaction);
    const out = await app.db.transaction(async (tx) => {
      const customersDone = new Set<string>();
      const r: string[] = [];
      for (const order of chunk) r.push((await recordOrder(tx, { tenantId: app.tenantId, order, source: "pull", actor: app.actor, notifications: "errors_and_actions", customersDone })).taskId);
      return r;
    });
    ids.push(...out);
  }
  return ids;
}

/**
 * The `/sales_invoices` bodies the app would send for these orders (same planner, same lines, same
 * contact, idempotency id), with the references replaced by `referencePrefix-n` — what a bare
 * script posting "the same invoices" sends.
 */
export async function invoiceBodies(app: BenchApp, orders: Awaited<ReturnType<typeof makeOrders>>, referencePrefix: string) {
  const { orderToTask } = await import("@/lib/tasks/order-to-task");
  const { planSync } = await import("@/lib/sync/plan");
  const { itemDetails } = await import("@/lib/sync/sync-task");
  const { documentDraft } = await import("@/lib/sync/documents");
  const { documentBody } = await import("@/lib/sage/accounting/operations");
  const { businessDefaults } = await import("@/lib/sync/sage-context");
  const { getSettings } = await import("@/lib/settings/settings");
  const { randomBytes } = await import("node:crypto");
  const settings = await getSettings(app.db, app.tenantId);
  const defaults = await businessDefaults(app.db, app.connectionId);
  const rows = await app.db
    .select({ product: marketplaceProducts, mapping: productMappings })
    .from(marketplaceProducts)
    .innerJoin(productMappings, eq(productMappings.productId, marketplaceProducts.id))
    .where(eq(marketplaceProducts.tenantId, app.tenantId));
  const products = new Map(rows.map((r) => [r.product.mpn, { name: r.product.name, description: r.product.description, unitPrice: r.product.unitPrice, kind: r.product.kind }]));
  const ctx = { taskId: "", tenantId: app.tenantId, connectionId: app.connectionId, orderId: "" };
  const itemMappings = new Map();
  for (const r of rows) itemMappings.set(r.product.mpn, await itemDetails(app.db, ctx, r.mapping));
  const contacts = await app.db
    .select({ customer: marketplaceCustomers.marketplaceCustomerId, contactId: customerMappings.sageContactId })
    .from(customerMappings)
    .innerJoin(marketplaceCustomers, eq(marketplaceCustomers.id, customerMappings.customerId))
    .where(eq(customerMappings.tenantId, app.tenantId));
  const contactOf = new Map(contacts.map((c) => [c.customer, c.contactId]));
  return orders.map((order, n) => {
    const draft = orderToTask(order);
    const plan = planSync({ orderId: order.id, orderType: draft.orderType, items: draft.items, settings, products, itemMappings, cancellationFee: null, taxRates: defaults.taxRates, defaults });
    if (plan.kind !== "write") throw new Error(`order ${order.id} does not plan to a write`);
    const contactId = contactOf.get(order.asset.tiers.customer.id);
    if (!contactId) throw new Error(`no Sage contact for ${order.asset.tiers.customer.id}`);
    const reference = `${referencePrefix}-${String(n + 1).padStart(6, "0")}`;
    return JSON.stringify(
      documentBody(documentDraft({ kind: "sales_invoice", contactId, reference, currency: draft.currency, exchangeRate: null, timeZone: defaults.timeZone, lines: plan.invoiceLines, idempotencyId: randomBytes(16).toString("hex") })),
    );
  });
}

// ─── worker processes (inline runners in their own OS processes, sharing one PostgreSQL database) ─

export type WorkerProcess = { pid: number; output: () => string; exited: () => boolean; stop: () => Promise<void> };

/**
 * `n` × `node --import tsx inngest/worker.ts` (the `npm run worker` entry: the process-wide inline
 * runner with every function, cron included) on the given database; resolves once each has started
 * its runner. The database must be one several processes can open (PostgreSQL).
 */
export async function startWorkers(n: number, env: Record<string, string>): Promise<WorkerProcess[]> {
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const child = spawn(process.execPath, [...extraNodeArgs("BENCH_WORKER_ARGS"), "--import", "tsx", "inngest/worker.ts"], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      let exited = false;
      child.stdout!.on("data", (d) => (output += d));
      child.stderr!.on("data", (d) => (output += d));
      child.on("exit", () => (exited = true));
      const w: WorkerProcess = {
        pid: child.pid!,
        output: () => output,
        exited: () => exited,
        async stop() {
          if (exited) return;
          child.kill("SIGTERM");
          const until = Date.now() + 10_000;
          while (!exited && Date.now() < until) await sleep(50);
          if (!exited) child.kill("SIGKILL");
        },
      };
      workers.push(w);
    }
    const deadline = Date.now() + 120_000;
    for (const w of workers) {
      while (!w.output().includes("[worker] inline runner started")) {
        if (w.exited()) throw new Error(`worker ${w.pid} exited:\n${w.output().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`worker ${w.pid} did not start:\n${w.output().slice(-3000)}`);
        await sleep(50);
      }
    }
    return workers;
  } catch (e) {
    await Promise.all(workers.map((w) => w.stop()));
    throw e;
  }
}

/** An InlineRunner that is never started: it only records events and their runs for the workers to run. */
export function eventSender(db: Database) {
  return new InlineRunner({ db, functions: [syncTask, syncBatch, marketplaceEventReceivedFn], logger: false, cron: false });
}

/** "Sync all" for one tenant: a sync_batches row and one `sync/batch.requested` recorded for whichever runner takes it. */
export async function requestSyncAll(sender: InlineRunner, tenant: { db: Database; tenantId: string; connectionId: string }, taskIds: string[]) {
  const { SYNC_BATCH_REQUESTED } = await import("@/inngest/functions/sync-batch");
  const { createSyncBatch } = await import("@/lib/sync/batches");
  const { batchId } = await createSyncBatch(tenant.db, { tenantId: tenant.tenantId, connectionId: tenant.connectionId, trigger: "sync_all", actor: { type: "user", label: "bench" }, taskIds });
  await sender.send({ name: SYNC_BATCH_REQUESTED, data: { tenantId: tenant.tenantId, connectionId: tenant.connectionId, batchId } });
  return batchId;
}

export type BatchTiming = { batchId: string; status: string; createdMs: number; finishedMs: number; elapsedMs: number; lastError: string | null };

/**
 * Waits (polling every 250 ms, kicking nobody) until every batch is completed or failed; the times
 * are the database's own stamps (created_at of the request, finished_at of the batch), so the poll
 * interval does not add to them.
 */
export async function waitForBatches(db: Database, batchIds: string[], timeoutMs = 1_800_000, workers: WorkerProcess[] = []): Promise<BatchTiming[]> {
  const { syncBatches } = await import("@/db/schema");
  const started = Date.now();
  for (;;) {
    const rows = await db.select({ id: syncBatches.id, status: syncBatches.status, createdAt: syncBatches.createdAt, finishedAt: syncBatches.finishedAt, lastError: syncBatches.lastError }).from(syncBatches).where(inArray(syncBatches.id, batchIds));
    const done = rows.filter((r) => (r.status === "completed" || r.status === "failed") && r.finishedAt);
    if (done.length === batchIds.length) {
      return batchIds.map((id) => {
        const r = done.find((x) => x.id === id)!;
        return { batchId: id, status: r.status, createdMs: r.createdAt.getTime(), finishedMs: r.finishedAt!.getTime(), elapsedMs: r.finishedAt!.getTime() - r.createdAt.getTime(), lastError: r.lastError };
      });
    }
    const dead = workers.find((w) => w.exited());
    if (dead) throw new Error(`worker ${dead.pid} exited during the sync:\n${dead.output().slice(-3000)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${batchIds.length - done.length} of ${batchIds.length} sync batches not finished after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** The machine's PostgreSQL unless DATABASE_URL says otherwise (each run creates a fresh database next to it). */
export function ensurePostgresUrl() {
  process.env.DATABASE_URL ||= "postgres://postgres@127.0.0.1:5432/postgres";
  return process.env.DATABASE_URL;
}

/**
 * The most calls of one business that fall in any `windowMs` (by the sandbox's `at` stamps), over
 * every window that starts at one of its calls; 429-answered calls included.
 */
export function maxCallsPerWindow(log: RequestLogLine[], windowMs: number) {
  const byBusiness = new Map<string, number[]>();
  for (const l of log) {
    const b = String(l.business ?? "?");
    const list = byBusiness.get(b) ?? [];
    list.push(Date.parse(l.at ?? ""));
    byBusiness.set(b, list);
  }
  const out = new Map<string, number>();
  for (const [b, times] of byBusiness) {
    times.sort((x, y) => x - y);
    let max = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j]! < times[i]! + windowMs) j++;
      max = Math.max(max, j - i);
    }
    out.set(b, max);
  }
  return out;
}

/** The strict lower bound for `calls` calls at R per window from an empty sliding window: ⌊(calls − 1) ÷ R⌋ × window. */
export const strictBoundS = (calls: number, R: number, W: number) => Math.floor(Math.max(0, calls - 1) / R) * W;
