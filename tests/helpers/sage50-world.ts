import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog, connections, customerMappings, marketplaceCustomers, productMappings, sageItems, syncTasks, tenants, users } from "@/db/schema";
import { syncBatch } from "@/inngest/functions/sync-batch";
import { syncTask } from "@/inngest/functions/sync-task";
import { InlineRunner } from "@/inngest/inline-runner";
import { resetConfigForTests } from "@/lib/config";
import { completeApplicationRegistration, issuePasscode, receiveApproval, receiveFileNotification, startApplicationRegistration } from "@/lib/connections/file-exchange";
import { installFromMarketplace } from "@/lib/install/install";
import type { MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { upsertMarketplaceProduct } from "@/lib/marketplace/catalog";
import { reconcileScopeFiles } from "@/lib/sage-catalog/scope-files";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { DEMO_ADMIN, DEMO_SUPPORT, DEMO_TENANT, seedDemo } from "@/lib/seed/demo";
import { createSyncBatch } from "@/lib/sync/batches";
import { recordOrder } from "@/lib/tasks/record-order";
import { startSandbox } from "@/sandbox/server";
import { openTestDatabase, type TestDatabase } from "./db";

export const GB_COMPANY = "SAGE50-GB-001";

type Sage50State = {
  companies: { companyId: string; name: string; rotations: number; keys?: unknown[]; uploads: { uploadId: string; status: string; records: number; createdAt?: string }[]; documents: { orderId: string; type: string; documentNumber: string; uploadId: string }[] }[];
};

/**
 * A tenant connected to Sage 50 Cloud through the whole consent path over HTTP: the sandbox's
 * Connected Cloud platform, the operator's registration, a passcode granted on the sandbox's Sage 50
 * desktop page, the platform's signed approval call received by a small stand-in for the app's two
 * route handlers (which call the same lib functions the routes call).
 */
export async function startSage50World() {
  process.env.FILE_UPLOAD_FIRST_WAIT_MS = "40";
  let db!: TestDatabase;
  const notifications: { status: number; scopes: string[] }[] = [];
  /** the API keys the platform sent to our approval URL (to check they are never stored as they are) */
  const approvedKeys: string[] = [];
  const downloads: Promise<unknown>[] = [];
  // the app's edge for the platform's calls: POST /api/file-exchange/:target/{approval,notifications}
  const edge: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const m = /^\/api\/file-exchange\/([^/]+)\/(approval|notifications)$/.exec(req.url ?? "");
        const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as [string, string]] : [])));
        const body = Buffer.concat(chunks).toString("utf8");
        if (!m || req.method !== "POST") {
          res.writeHead(404).end();
          return;
        }
        if (m[2] === "approval") {
          const key = (JSON.parse(body || "{}") as { apikey?: string }).apikey;
          if (key) approvedKeys.push(key);
          const outcome = await receiveApproval(db.db, { targetId: m[1]!, headers, body });
          res.writeHead(outcome.status, { "content-type": "application/json" }).end(JSON.stringify({ message: outcome.message }));
          return;
        }
        const outcome = await receiveFileNotification(db.db, { targetId: m[1]!, headers, body });
        notifications.push({ status: outcome.status, scopes: outcome.status === 200 ? outcome.downloads.map((d) => d.scope) : [] });
        res.writeHead(outcome.status, { "content-type": "application/json" }).end(JSON.stringify({ message: outcome.message }));
        // what the route's event starts (file-exchange-download): the reconciliation of that scope
        if (outcome.status === 200) for (const d of outcome.downloads) downloads.push(reconcileScopeFiles(db.db, { tenantId: d.tenantId, connectionId: d.connectionId, scopes: [d.scope], actor: { type: "system", label: "test" } }));
      })().catch((e: unknown) => {
        res.writeHead(500).end(String(e));
      });
    });
  });
  await new Promise<void>((r) => edge.listen(0, "127.0.0.1", () => r()));
  const appUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
  const sandbox = await startSandbox({ port: 0, appUrl, sage50: { trackingStepMs: 30 } });
  process.env.SANDBOX_URL = sandbox.url;
  process.env.APP_URL = appUrl;
  resetConfigForTests();
  db = await openTestDatabase();
  setDatabaseHandleForTests(db);
  await seedDemo(db.db);
  const [tenant] = await db.db.select().from(tenants).where(eq(tenants.marketplaceAccountId, DEMO_TENANT.marketplaceAccountId));
  const [admin] = await db.db.select().from(users).where(eq(users.email, DEMO_ADMIN.email));
  const actor = { type: "user" as const, id: admin!.id, label: admin!.email };
  const operator = { type: "support" as const, label: DEMO_SUPPORT.email };
  const runner = new InlineRunner({ db: db.db, functions: [syncTask, syncBatch], pollIntervalMs: 10, retryBaseDelayMs: 10, retryMaxDelayMs: 100, leaseMs: 5_000, logger: false, cron: false });
  runner.start();

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sandbox.url}/control/sage50/${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`sage50 control ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  const postForm = async (url: string, fields: Record<string, string>) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });
    return { status: res.status, html: await res.text() };
  };
  let seq = 0;

  const w = {
    sandbox,
    get db() {
      return db.db;
    },
    tenantId: tenant!.id,
    actor,
    notifications,
    approvedKeys,
    async settleDownloads() {
      await Promise.all(downloads.splice(0));
    },
    control,
    async state(): Promise<Sage50State> {
      return (await control("GET", "state")) as Sage50State;
    },
    async company(id = GB_COMPANY) {
      return (await w.state()).companies.find((c) => c.companyId === id)!;
    },
    /** The operator's registration: developer → the captcha page → the ids from the mailbox → stored encrypted. */
    async register() {
      const email = `ops-${randomUUID().slice(0, 6)}@sage-connector.test`;
      const { registrationUrl } = await startApplicationRegistration(db.db, { targetId: "sage-50-cloud", name: "Sage Connector", email, actor: operator });
      const done = await postForm(registrationUrl, { captcha: "solved" });
      if (done.status !== 200) throw new Error(`registration page: ${done.status}`);
      const [mail] = (await (await fetch(`${sandbox.url}/control/sage50/mailbox?email=${encodeURIComponent(email)}`)).json()) as { developerId: string; applicationId: string; secret: string }[];
      await completeApplicationRegistration(db.db, { targetId: "sage-50-cloud", developerId: mail!.developerId, applicationId: mail!.applicationId, secret: mail!.secret, actor: operator });
      return mail!;
    },
    async install() {
      return installFromMarketplace(db.db, { tenantId: tenant!.id, marketplaceId: "demo-marketplace", accountId: DEMO_TENANT.marketplaceAccountId, actor });
    },
    /** A passcode entered on the Sage 50 desktop page and granted (or denied): the platform calls our approval URL. */
    async consent(decision: "grant" | "deny" = "grant", company = GB_COMPANY) {
      const code = await issuePasscode(db.db, { tenantId: tenant!.id, targetId: "sage-50-cloud", country: "gb", actor });
      const page = await postForm(`${sandbox.url}/sage50/desktop/decision`, { company, passcode: code.passcode, decision });
      return { code, page };
    },
    async connection() {
      const [row] = await db.db.select().from(connections).where(and(eq(connections.tenantId, tenant!.id), eq(connections.target, "sage-50-cloud")));
      return row;
    },
    async refreshCatalog() {
      return refreshSageCatalog(db.db, { tenantId: tenant!.id, actor });
    },
    async actionLog() {
      return db.db.select().from(actionLog).where(eq(actionLog.tenantId, tenant!.id));
    },
    /** Marketplace products and customers mapped to the Sage 50 company's products 101/102 and customers. */
    async mapCatalog() {
      const connectionId = (await w.connection())!.id;
      const items = await db.db.select().from(sageItems).where(eq(sageItems.connectionId, connectionId));
      const basic = items.find((i) => i.sageId === "101")!;
      const std = items.find((i) => i.sageId === "102")!;
      const pBasic = await upsertMarketplaceProduct(db.db, tenant!.id, { id: "PRD-BAS", mpn: "M365-BASIC-M", name: "Microsoft 365 Business Basic", description: null, unit_price: "5.10", currency: "GBP", billing_period: "monthly", type: "item" });
      const pStd = await upsertMarketplaceProduct(db.db, tenant!.id, { id: "PRD-STD", mpn: "M365-STD-M", name: "Microsoft 365 Business Standard", description: null, unit_price: "10.30", currency: "GBP", billing_period: "monthly", type: "item" });
      await db.db.insert(productMappings).values([
        { tenantId: tenant!.id, productId: pBasic, sageItemId: basic.sageId, sageItemType: "product", sageItemCode: basic.itemCode, sageItemName: basic.description },
        { tenantId: tenant!.id, productId: pStd, sageItemId: std.sageId, sageItemType: "product", sageItemCode: std.itemCode, sageItemName: std.description },
      ]);
    },
    /** A purchase order of `customer` (mapped to Sage 50 customer `sageCustomerId`) recorded as a task. */
    async order(customer: { id: string; name: string; email: string; sageCustomerId: string }, items: { mpn: string; quantity: string }[]) {
      const id = `PR-S50-${++seq}-${randomUUID().slice(0, 6)}`;
      const created = new Date().toISOString();
      const request = {
        id,
        type: "purchase",
        status: "approved",
        created,
        updated: created,
        currency: "GBP",
        billing_period: "monthly",
        account_id: DEMO_TENANT.marketplaceAccountId,
        asset: { id: `AS-${customer.id}`, items: items.map((i) => ({ ...i, old_quantity: "0" })), tiers: { customer: { id: customer.id, name: customer.name, contact_info: { email: customer.email }, currency: "GBP" } } },
        marketplace: { id: "demo-marketplace" },
      } as MarketplaceRequestDto;
      const result = await db.db.transaction((tx) => recordOrder(tx, { tenantId: tenant!.id, order: request, source: "pull", actor }));
      const [mc] = await db.db.select().from(marketplaceCustomers).where(and(eq(marketplaceCustomers.tenantId, tenant!.id), eq(marketplaceCustomers.marketplaceCustomerId, customer.id)));
      await db.db.insert(customerMappings).values({ tenantId: tenant!.id, customerId: mc!.id, sageContactId: customer.sageCustomerId, sageContactName: customer.name, mappedAt: new Date() }).onConflictDoNothing();
      return { orderId: id, taskId: result.taskId! };
    },
    async syncAll(taskIds: string[]) {
      const connectionId = (await w.connection())!.id;
      const { batchId } = await createSyncBatch(db.db, { tenantId: tenant!.id, connectionId, trigger: "sync_all", actor, taskIds });
      const { runIds } = await runner.send({ name: "sync/batch.requested", data: { tenantId: tenant!.id, connectionId, batchId } });
      for (const id of runIds) await runner.waitForRun(id, { timeoutMs: 240_000 });
      return batchId;
    },
    async tasks(taskIds: string[]) {
      const rows = await db.db.select().from(syncTasks).where(eq(syncTasks.tenantId, tenant!.id));
      const wanted = new Set(taskIds);
      return rows.filter((r) => wanted.has(r.id));
    },
    async close() {
      await runner.stop({ timeoutMs: 2_000 });
      setDatabaseHandleForTests(undefined);
      await db.drop();
      await sandbox.close();
      await new Promise<void>((r) => edge.close(() => r()));
    },
  };
  return w;
}

export type Sage50World = Awaited<ReturnType<typeof startSage50World>>;
