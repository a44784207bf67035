import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import { actionLog, connections, customerMappings, installations, productMappings, sageDocuments, syncTasks, tenantSettings } from "@/db/schema";
import { resetConfigForTests } from "@/lib/config";
import { findInstallation } from "@/lib/install/install";
import { listInstallationsDueForPurge, purgeTenantDataChunk } from "@/lib/install/uninstall";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";
import { ensureWebhookSecret, intakeRunner, orderEvent, orderFixture, signed } from "./intake-helpers";

const DAY = 24 * 3600 * 1000;

function uninstallEvent(accountId = "RES-1001") {
  return { type: "installation.uninstalled", timestamp: new Date().toISOString(), data: { installation_id: "EIN-TEST", account_id: accountId } };
}

async function rows(sw: SyncWorld, table: typeof syncTasks | typeof productMappings | typeof customerMappings | typeof sageDocuments | typeof actionLog | typeof connections | typeof tenantSettings) {
  const [r] = await sw.db.select({ n: count() }).from(table).where(eq(table.tenantId, sw.world.tenantId));
  return r!.n;
}

/**
 * A synced world with the intake runner, for one describe block; `retentionDays` sets
 * TENANT_DATA_RETENTION_DAYS for it (unset: the default). Read `world.sw` / `world.intake` in tests.
 */
function useUninstallWorld(retentionDays?: string) {
  const world = {} as { sw: SyncWorld; intake: ReturnType<typeof intakeRunner> };
  beforeAll(async () => {
    if (retentionDays !== undefined) process.env.TENANT_DATA_RETENTION_DAYS = retentionDays;
    resetConfigForTests();
    world.sw = await startSyncWorld();
    await world.sw.settings({});
    world.intake = intakeRunner(world.sw.world);
  });
  afterAll(async () => {
    await world.intake?.stop();
    await world.sw?.close();
    delete process.env.TENANT_DATA_RETENTION_DAYS;
    resetConfigForTests();
  });
  return world;
}

describe("Uninstall from the marketplace: tokens deleted, data kept for the retention, then purged by the flow", () => {
  const world = useUninstallWorld("14");
  let installationId: string;
  let secret: string;
  beforeAll(async () => {
    ({ installationId, secret } = await ensureWebhookSecret(world.sw.world));
  });

  it("a signed installation.uninstalled: tokens gone, connection disconnected, installation marked with its purge date, Action Log says so; later events get 410 and change nothing", async () => {
    const { sw, intake } = world;
    const first = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }]);
    await sw.sync([first.taskId]);
    expect((await sw.task(first.taskId)).state).toBe("synced");
    const before = { tasks: await rows(sw, syncTasks), mappings: await rows(sw, productMappings), documents: await rows(sw, sageDocuments) };
    expect(before.documents).toBeGreaterThan(0);

    const wrong = signed(secret, uninstallEvent("RES-9999"));
    expect((await intake.deliver(installationId, wrong)).status).toBe(400);
    expect((await sw.db.select().from(installations).where(eq(installations.id, installationId)))[0]!.uninstalledAt).toBeNull();

    const t0 = Date.now();
    const res = await intake.deliver(installationId, signed(secret, uninstallEvent()));
    expect(res.status).toBe(202);
    const [inst] = await sw.db.select().from(installations).where(eq(installations.id, installationId));
    expect(inst!.uninstalledAt).not.toBeNull();
    // 14 days (TENANT_DATA_RETENTION_DAYS) after the uninstall
    expect(inst!.purgeAfter!.getTime() - inst!.uninstalledAt!.getTime()).toBe(14 * DAY);
    expect(inst!.uninstalledAt!.getTime()).toBeGreaterThanOrEqual(t0 - 1000);
    const [conn] = await sw.db.select().from(connections).where(eq(connections.id, sw.connectionId));
    expect({ status: conn!.status, credentials: conn!.credentialsEncrypted }).toEqual({ status: "disconnected", credentials: null });
    expect(await findInstallation(sw.db, sw.world.tenantId)).toBeNull();
    const purgeDay = inst!.purgeAfter!.toISOString().slice(0, 10);
    const logged = await sw.db.select({ message: actionLog.message, category: actionLog.category, actor: actionLog.actorType }).from(actionLog).where(eq(actionLog.tenantId, sw.world.tenantId));
    expect(logged).toContainEqual({
      category: "install",
      actor: "marketplace",
      message: `Sage Integration was uninstalled in the marketplace: the Sage tokens are deleted and nothing is synced. Mappings, tasks and this log are kept until ${purgeDay} (14 days) and then deleted; install again before then to carry on where you left off.`,
    });
    // kept
    expect({ tasks: await rows(sw, syncTasks), mappings: await rows(sw, productMappings), documents: await rows(sw, sageDocuments) }).toEqual(before);

    // an order event after the uninstall: 410 Gone, nothing recorded
    const late = orderFixture({ customer: { id: "TA-9001", name: "Contoso Cloud Ltd", email: "billing@contoso-cloud.example" } });
    const gone = await intake.deliver(installationId, signed(secret, orderEvent(late)));
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ error: "uninstalled" });
    expect(await sw.db.select().from(syncTasks).where(eq(syncTasks.marketplaceOrderId, late.id))).toHaveLength(0);
    // a bad signature still gets 401, not 410 (only the marketplace learns of the uninstall)
    expect((await intake.deliver(installationId, signed("whsec_" + Buffer.alloc(32, 7).toString("base64"), orderEvent(late)))).status).toBe(401);
  });

  it("the purge waits for the retention, deletes the tenant's data in bounded slices, marks the installation purged and logs it", async () => {
    const { sw } = world;
    const [inst] = await sw.db.select().from(installations).where(eq(installations.id, installationId));
    // not due yet: nothing listed, a slice refuses
    expect(await listInstallationsDueForPurge(sw.db, new Date(inst!.purgeAfter!.getTime() - 1000))).toEqual([]);
    expect(await purgeTenantDataChunk(sw.db, { installationId, now: new Date(inst!.purgeAfter!.getTime() - 1000) })).toEqual({ done: true, deleted: 0, purged: false, reason: "not_due" });
    expect(await rows(sw, syncTasks)).toBeGreaterThan(0);

    const due = new Date(inst!.purgeAfter!.getTime() + 1000);
    expect(await listInstallationsDueForPurge(sw.db, due)).toEqual([{ id: installationId, tenantId: sw.world.tenantId }]);
    const total = (await rows(sw, syncTasks)) + (await rows(sw, productMappings)) + (await rows(sw, customerMappings)) + (await rows(sw, sageDocuments)) + (await rows(sw, actionLog));
    // slices of 7 rows: several steps, each bounded
    let deleted = 0;
    let slices = 0;
    for (;;) {
      const r = await purgeTenantDataChunk(sw.db, { installationId, limit: 7, deletedBefore: deleted, now: due });
      expect(r.deleted).toBeLessThanOrEqual(7);
      deleted += r.deleted;
      slices += 1;
      if (r.done) {
        expect(r).toMatchObject({ done: true, purged: true });
        break;
      }
      if (slices > 500) throw new Error("purge did not finish");
    }
    expect(slices).toBeGreaterThan(3);
    expect(deleted).toBeGreaterThanOrEqual(total);
    for (const t of [syncTasks, productMappings, customerMappings, sageDocuments, connections, tenantSettings] as const) expect(await rows(sw, t)).toBe(0);
    const log = await sw.db.select({ message: actionLog.message, actor: actionLog.actorType }).from(actionLog).where(eq(actionLog.tenantId, sw.world.tenantId));
    expect(log).toEqual([
      {
        actor: "system",
        message: `Data of the uninstalled Sage Integration purged: the retention ended on ${inst!.purgeAfter!.toISOString().slice(0, 10)}; ${deleted.toLocaleString("en-GB")} rows deleted (mappings, tasks, documents, Sage tokens and ids, settings and the earlier Action Log). Installing again starts afresh.`,
      },
    ]);
    const [after] = await sw.db.select().from(installations).where(eq(installations.id, installationId));
    expect(after!.purgedAt).not.toBeNull();
    // a repeat does nothing
    expect(await purgeTenantDataChunk(sw.db, { installationId, now: due })).toEqual({ done: true, deleted: 0, purged: false, reason: "already_purged" });
    expect(await listInstallationsDueForPurge(sw.db, due)).toEqual([]);

    // installing again: a fresh start, said so
    const again = await sw.world.install();
    expect(again).toMatchObject({ created: false, reinstalled: true });
    const [re] = await sw.db.select().from(installations).where(eq(installations.id, installationId));
    expect({ uninstalledAt: re!.uninstalledAt, purgeAfter: re!.purgeAfter, purgedAt: re!.purgedAt }).toEqual({ uninstalledAt: null, purgeAfter: null, purgedAt: null });
    const messages = (await sw.db.select({ message: actionLog.message }).from(actionLog).where(and(eq(actionLog.tenantId, sw.world.tenantId), eq(actionLog.category, "install")))).map((m) => m.message);
    expect(messages.some((m) => m.startsWith("Sage Integration installed again from Demo Reseller Marketplace; the earlier data was purged on "))).toBe(true);
  });
});

describe("Installed again before the purge: everything kept comes back, and the purge leaves it alone", () => {
  const world = useUninstallWorld();

  it("uninstall → install again → mappings and tasks kept, a purge slice refuses (reinstalled), reconnect syncs the same connection", async () => {
    const { sw, intake } = world;
    const first = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }]);
    await sw.sync([first.taskId]);
    const { installationId, secret } = await ensureWebhookSecret(sw.world);
    expect((await intake.deliver(installationId, signed(secret, uninstallEvent()))).status).toBe(202);
    const [inst] = await sw.db.select().from(installations).where(eq(installations.id, installationId));
    // the default retention is 30 days
    expect(inst!.purgeAfter!.getTime() - inst!.uninstalledAt!.getTime()).toBe(30 * DAY);
    const mappings = await rows(sw, productMappings);

    const again = await sw.world.install();
    expect(again.reinstalled).toBe(true);
    expect(await findInstallation(sw.db, sw.world.tenantId)).not.toBeNull();
    expect(await rows(sw, productMappings)).toBe(mappings);
    expect(await purgeTenantDataChunk(sw.db, { installationId, now: new Date(inst!.purgeAfter!.getTime() + DAY) })).toEqual({ done: true, deleted: 0, purged: false, reason: "reinstalled" });
    const log = (await sw.db.select({ message: actionLog.message }).from(actionLog).where(eq(actionLog.tenantId, sw.world.tenantId))).map((m) => m.message);
    expect(log).toContain("Sage Integration installed again from Demo Reseller Marketplace: mappings, tasks and history kept since the uninstall are back. Connect Sage again to resume syncing.");

    const { outcome } = await sw.world.authorize();
    expect(outcome).toMatchObject({ kind: "connected", connectionId: sw.connectionId });
    const second = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "3" }]);
    await sw.sync([second.taskId]);
    expect((await sw.task(second.taskId)).state).toBe("synced");
    expect((await sw.sageState()).sales_invoices.filter((i) => i.reference === first.orderId)).toHaveLength(1);
  });
});

describe("The purge flow (Inngest function, inline runner) on a retention of 0 days", () => {
  const world = useUninstallWorld("0");

  it("tenant-data-purge deletes everything of the tenant and writes one Action Log row", async () => {
    const { sw, intake } = world;
    const { InlineRunner } = await import("@/inngest/inline-runner");
    const { tenantDataPurge } = await import("@/inngest/functions/tenant-data-purge");
    const { tenantDataPurgeRequested } = await import("@/inngest/events");
    const first = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }]);
    await sw.sync([first.taskId]);
    const { installationId, secret } = await ensureWebhookSecret(sw.world);
    expect((await intake.deliver(installationId, signed(secret, uninstallEvent()))).status).toBe(202);
    expect(await rows(sw, syncTasks)).toBeGreaterThan(0);
    const runner = new InlineRunner({ db: sw.db, functions: [tenantDataPurge], pollIntervalMs: 20, leaseMs: 2_000, retryBaseDelayMs: 50, logger: false });
    runner.start();
    try {
      await runner.send(tenantDataPurgeRequested.create({ installationId }, { id: `purge-test-${installationId}` }));
      await runner.drain();
    } finally {
      await runner.stop();
    }
    for (const t of [syncTasks, productMappings, customerMappings, sageDocuments, connections, tenantSettings] as const) expect(await rows(sw, t)).toBe(0);
    const log = await sw.db.select({ actor: actionLog.actorLabel }).from(actionLog).where(eq(actionLog.tenantId, sw.world.tenantId));
    expect(log).toEqual([{ actor: "Data retention" }]);
    expect((await sw.db.select().from(installations).where(eq(installations.id, installationId)))[0]!.purgedAt).not.toBeNull();
  });
});
