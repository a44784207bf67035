import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { actionLog, connections, productMappings } from "@/db/schema";
import { disconnectSage } from "@/lib/connections/disconnect";
import { getConnectionOverview } from "@/lib/connections/overview";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

describe("Disconnect: tokens deleted here, mappings and history kept, syncs paused; connecting again resumes", () => {
  let sw: SyncWorld;
  beforeAll(async () => {
    sw = await startSyncWorld();
    await sw.settings({});
  });
  afterAll(async () => sw?.close());

  it("disconnect, a sync writes nothing, connect again → the same connection, the order is invoiced once", async () => {
    const first = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "1" }]);
    await sw.sync([first.taskId]);
    expect((await sw.task(first.taskId)).state).toBe("synced");
    const mappingsBefore = (await sw.db.select().from(productMappings)).length;

    const result = await disconnectSage(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor });
    expect(result.ok).toBe(true);
    const [row] = await sw.db.select().from(connections).where(eq(connections.id, sw.connectionId));
    expect({ status: row!.status, credentials: row!.credentialsEncrypted, tokensIssuedAt: row!.tokensIssuedAt }).toEqual({ status: "disconnected", credentials: null, tokensIssuedAt: null });
    expect((await sw.db.select().from(productMappings)).length).toBe(mappingsBefore);
    expect((await getConnectionOverview(sw.db, sw.world.tenantId))?.status).toBe("disconnected");
    const logged = await sw.db.select({ message: actionLog.message }).from(actionLog).where(eq(actionLog.tenantId, sw.world.tenantId));
    expect(logged.map((l) => l.message)).toContain("Disconnected from Sage (" + row!.businessName + "): the tokens are deleted here, syncs are paused; mappings and history are kept. To revoke the app at Sage too, remove it in Sage's settings.");
    // a second disconnect changes nothing and says so
    expect(await disconnectSage(sw.db, { tenantId: sw.world.tenantId, actor: sw.world.actor })).toEqual({ ok: false, message: "There is no Sage connection to disconnect. Nothing was changed." });

    const paused = await sw.order("purchase", [{ mpn: "M365-STD", quantity: "2" }]);
    await sw.sync([paused.taskId]).catch(() => {});
    expect((await sw.task(paused.taskId)).state).not.toBe("synced");
    expect((await sw.sageState()).sales_invoices.filter((i) => i.reference === paused.orderId)).toHaveLength(0);

    // connected again: the same row comes back (its mappings and Sage ids carry on) and the paused order syncs once
    const { outcome } = await sw.world.authorize();
    expect(outcome).toMatchObject({ kind: "connected", connectionId: sw.connectionId });
    const [back] = await sw.db.select().from(connections).where(eq(connections.id, sw.connectionId));
    expect(back!.status).toBe("connected");
    await sw.sync([paused.taskId]);
    expect((await sw.task(paused.taskId)).state).toBe("synced");
    const state = await sw.sageState();
    expect(state.sales_invoices.filter((i) => i.reference === paused.orderId)).toHaveLength(1);
    expect(state.contacts.filter((c) => c.reference === "TA-9001")).toHaveLength(1);
  });
});
