import { sageSession } from "@/lib/connections/sage-session";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { setDatabaseHandleForTests } from "@/db/client";
import { productMappings, feeMappings, sageDocuments, syncTasks } from "@/db/schema";
import { syncTask, SYNC_TASK_REQUESTED } from "@/inngest/functions/sync-task";
import { syncBatch, SYNC_BATCH_REQUESTED } from "@/inngest/functions/sync-batch";
import { createSyncBatch } from "@/lib/sync/batches";
import { marketplaceEventReceivedFn } from "@/inngest/functions/marketplace-event-received";
import { InlineRunner } from "@/inngest/inline-runner";
import type { MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { upsertMarketplaceProduct } from "@/lib/marketplace/catalog";
import { createSageAccountingClient, collectSagePages } from "@/lib/sage/accounting/api";
import { saveSettings, DEFAULT_SETTINGS, type SettingsInput } from "@/lib/settings/settings";
import { recordOrder } from "@/lib/tasks/record-order";
import { startWorld, type World } from "./world";

export const CUSTOMER = { id: "TA-9001", name: "Contoso Cloud Ltd", email: "billing@contoso-cloud.example", currency: "GBP" };

/** A connected tenant with a catalog, mappings and a sync runner — for sync engine tests. */
export async function startSyncWorld(opts: { persistentDb?: boolean } = {}) {
  process.env.SAGE_RETRY_BASE_DELAY_MS ??= "5";
  process.env.SAGE_ATTEMPT_TIMEOUT_MS ??= "1500";
  const world: World = await startWorld({ persistentDb: opts.persistentDb });
  await world.install();
  await world.authorize();
  setDatabaseHandleForTests(world.db);
  const db = world.db.db;
  const connection = (await world.connection())!;
  const sage = createSageAccountingClient(sageSession(db, connection.id, { paced: false }));
  const services = await collectSagePages<{ id: string; item_code?: string; description?: string }>(sage, "/services?attributes=item_code,description&items_per_page=200");
  const m365 = services.find((s) => s.item_code === "M365-STANDARD")!;
  const basic = services.find((s) => s.item_code === "M365-BASIC")!;

  const catalog = [
    { id: "PRD-STD", mpn: "M365-STD", name: "Microsoft 365 Business Standard", description: "Desktop apps and mailbox", unit_price: "12.50", currency: "GBP", billing_period: "monthly" as const, type: "item" as const },
    { id: "PRD-BAS", mpn: "M365-BAS", name: "Microsoft 365 Business Basic", description: "Web apps", unit_price: "5.10", currency: "GBP", billing_period: "monthly" as const, type: "item" as const },
    { id: "PRD-BAK", mpn: "BACKUP-1TB", name: "Cloud Backup 1 TB", description: null, unit_price: "20.00", currency: "GBP", billing_period: "monthly" as const, type: "item" as const },
    { id: "PRD-FEE", mpn: "FEE-CANCEL", name: "Cancellation fee", description: null, unit_price: "30.00", currency: "GBP", billing_period: "one_time" as const, type: "fee" as const, fee_kind: "cancellation" },
  ];
  const productIds: Record<string, string> = {};
  for (const p of catalog) productIds[p.mpn] = await upsertMarketplaceProduct(db, world.tenantId, p);
  await db.insert(productMappings).values([
    { tenantId: world.tenantId, productId: productIds["M365-STD"]!, sageItemId: m365.id, sageItemType: "service", sageItemCode: "M365-STANDARD", sageItemName: m365.description ?? "M365" },
    { tenantId: world.tenantId, productId: productIds["M365-BAS"]!, sageItemId: basic.id, sageItemType: "service", sageItemCode: "M365-BASIC", sageItemName: basic.description ?? "M365" },
  ]);

  const runner = new InlineRunner({ db, functions: [syncTask, syncBatch, marketplaceEventReceivedFn], pollIntervalMs: 10, retryBaseDelayMs: 10, retryMaxDelayMs: 200, leaseMs: 5_000, logger: false, cron: false });
  runner.start();

  let orderSeq = 0;
  const sw = {
    world,
    db,
    connectionId: connection.id,
    businessId: connection.businessId!,
    runner,
    sage,
    services: { m365, basic },
    productIds,
    async settings(values: Partial<SettingsInput>) {
      await saveSettings(db, { tenantId: world.tenantId, actor: world.actor, values: { ...DEFAULT_SETTINGS, ...values } });
    },
    async mapFee() {
      await db.insert(feeMappings).values({ tenantId: world.tenantId, feeKind: "cancellation", sageItemId: basic.id, sageItemType: "service", sageItemName: "Cancellation fee (Sage)" });
    },
    async mapBackup() {
      await db.insert(productMappings).values({ tenantId: world.tenantId, productId: productIds["BACKUP-1TB"]!, sageItemId: basic.id, sageItemType: "service", sageItemName: "Backup" });
    },
    /** Record a marketplace order as a task (same path as push and pull). */
    async order(type: MarketplaceRequestDto["type"], items: { mpn: string; quantity: string; old_quantity?: string; unit_price?: string; amount?: string }[], opts: { customer?: Partial<typeof CUSTOMER> & { contactInfo?: Record<string, unknown> }; currency?: string; id?: string } = {}) {
      const customer = { ...CUSTOMER, ...opts.customer };
      const id = opts.id ?? `PR-${Date.now()}-${++orderSeq}-${randomUUID().slice(0, 4)}`;
      const created = new Date().toISOString();
      const request = {
        id,
        type,
        status: "approved",
        created,
        updated: created,
        currency: opts.currency ?? customer.currency,
        billing_period: "monthly",
        account_id: "RES-1001",
        asset: {
          id: `AS-${customer.id}`,
          items: items.map((i) => ({ ...i, old_quantity: i.old_quantity ?? "0" })),
          tiers: { customer: { id: customer.id, name: customer.name, contact_info: { email: customer.email, ...customer.contactInfo }, currency: customer.currency } },
        },
        marketplace: { id: "demo-marketplace" },
      } as MarketplaceRequestDto;
      const result = await db.transaction((tx) => recordOrder(tx, { tenantId: world.tenantId, order: request, source: "pull", actor: world.actor }));
      return { orderId: id, taskId: result.taskId };
    },
    async sync(taskIds: string[]) {
      const { runIds } = await runner.send(taskIds.map((taskId) => ({ name: SYNC_TASK_REQUESTED, data: { tenantId: world.tenantId, taskId, connectionId: connection.id } })));
      for (const id of runIds) await runner.waitForRun(id, { timeoutMs: 120_000 });
    },
    /** "Sync all": one batch run for many tasks. */
    async syncAll(taskIds: string[]) {
      const { batchId } = await createSyncBatch(db, { tenantId: world.tenantId, connectionId: connection.id, trigger: "sync_all", actor: world.actor, taskIds });
      const { runIds } = await runner.send({ name: SYNC_BATCH_REQUESTED, data: { tenantId: world.tenantId, connectionId: connection.id, batchId } });
      const outputs: unknown[] = [];
      for (const id of runIds) outputs.push((await runner.waitForRun(id, { timeoutMs: 300_000 })).output);
      return outputs;
    },
    async task(taskId: string) {
      const [t] = await db.select().from(syncTasks).where(eq(syncTasks.id, taskId));
      return t!;
    },
    /** what we recorded as written to Sage for a task */
    async documents(taskId: string) {
      return db.select().from(sageDocuments).where(eq(sageDocuments.taskId, taskId));
    },
    async sageState() {
      return (await fetch(`${world.sandbox.url}/__sandbox/state?business=${connection.businessId}`)).json() as Promise<{
        contacts: { id: string; name: string; reference?: string }[];
        sales_invoices: { id: string; reference?: string; status?: { id: string }; total_amount: number; invoice_lines: { description: string; quantity: number; unit_price: number; service?: { id: string } | null }[]; contact?: { id: string } }[];
        sales_credit_notes: { id: string; reference?: string; total_amount: number; credit_note_lines: { description: string; quantity: number }[] }[];
      }>;
    },
    async close() {
      await runner.stop({ timeoutMs: 2_000 });
      setDatabaseHandleForTests(undefined);
      await world.close();
    },
  };
  return sw;
}

export type SyncWorld = Awaited<ReturnType<typeof startSyncWorld>>;
