import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { connections, fileExchangeApplications, sageContacts, sageDocuments } from "@/db/schema";
import { sageFiles } from "@/lib/connections/sage-session";
import { encryptSecret } from "@/lib/crypto/envelope";
import { issuePasscode, latestPasscode } from "@/lib/connections/file-exchange";
import { GB_COMPANY, startSage50World, type Sage50World } from "../helpers/sage50-world";

/**
 * Sage 50 Cloud end to end against the sandbox's Connected Cloud platform, each claim asserted on
 * the sandbox's own records: registration and consent, API-key rotation under concurrent calls,
 * full files with a deletion, order files uploaded once under dropped answers and stuck tracking,
 * and a partially failed result.
 */
describe("Sage 50 Cloud (file exchange)", () => {
  let w: Sage50World;
  const contoso = { id: "MC-CONTOSO", name: "Contoso Ltd", email: "billing@contoso.example", sageCustomerId: "CONTO001" };
  const fabrikam = { id: "MC-FABRIKAM", name: "Fabrikam Ireland Ltd", email: "accounts@fabrikam.example", sageCustomerId: "FABRI001" };

  beforeAll(async () => {
    w = await startSage50World();
    await w.install();
  }, 120_000);
  afterAll(async () => w?.close());

  it("the operator's registration is stored with its secret encrypted; a passcode granted in Sage 50 desktop makes the connection live", async () => {
    const mail = await w.register();
    const [app] = await w.db.select().from(fileExchangeApplications).where(eq(fileExchangeApplications.target, "sage-50-cloud"));
    expect(app!.status).toBe("ready");
    expect(app!.secretEncrypted).not.toContain(mail.secret);

    const denied = await w.consent("deny");
    expect(denied.page.status).toBe(200);
    expect(await w.connection()).toBeUndefined();

    const { page } = await w.consent("grant");
    expect(page.html).toContain("Access granted");
    const conn = (await w.connection())!;
    expect([conn.status, conn.businessId, conn.businessName]).toEqual(["connected", GB_COMPANY, "Sage 50 Demo Company Ltd"]);
    const log = (await w.actionLog()).map((r) => r.message);
    expect(log.filter((m) => m.includes("Sage 50 Cloud connected: access granted for Sage 50 Demo Company Ltd"))).toHaveLength(1);
    expect(log.some((m) => m.startsWith("Access was denied in Sage 50 Cloud"))).toBe(true);
    // the key the platform sent is sealed, never stored as it is
    expect(w.approvedKeys).toHaveLength(1);
    expect(conn.credentialsEncrypted).not.toContain(w.approvedKeys[0]!);
  });

  it("an expired key under 20 concurrent calls is rotated exactly once; every call succeeds with the new key", async () => {
    const conn = (await w.connection())!;
    const before = (await w.company()).rotations;
    await w.control("POST", "faults", { kind: "expire_key_after", calls: 0 });
    const files = await sageFiles(w.db, conn.id, { paced: false });
    const lists = await Promise.all(Array.from({ length: 20 }, () => files.listFiles()));
    expect(lists.every((l) => l.map((f) => f.scope).sort().join() === "Customers,Products")).toBe(true);
    expect((await w.company()).rotations - before).toBe(1);
    const rotated = (await w.actionLog()).filter((r) => r.message.startsWith("Sage 50 Cloud API key rotated"));
    expect(rotated).toHaveLength(1);
    const [after] = await w.db.select().from(connections).where(eq(connections.id, conn.id));
    expect(after!.credentialsEncrypted).not.toBe(conn.credentialsEncrypted);
  });

  it("a full Customers file without a mapped customer: flagged deleted and named in the Action Log, never dropped", async () => {
    const refreshed = await w.refreshCatalog();
    expect(refreshed).toMatchObject({ ok: true, products: 6, contacts: 4, removedContacts: 0 });
    await w.order(contoso, [{ mpn: "M365-BASIC-M", quantity: "1" }]).catch(() => undefined); // maps Contoso → CONTO001
    const conn = (await w.connection())!;
    await w.control("POST", `companies/${GB_COMPANY}/files/Customers`, { remove: ["TAILS001"] });
    // the platform's signed notification reaches the approval/notification edge → the download flow
    for (let i = 0; i < 100 && w.notifications.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await w.settleDownloads();
    expect(w.notifications.at(-1)).toEqual({ status: 200, scopes: ["Customers"] });
    const rows = await w.db.select().from(sageContacts).where(eq(sageContacts.connectionId, conn.id));
    expect(rows).toHaveLength(4);
    const gone = rows.filter((r) => r.deletedInSageAt);
    expect(gone.map((r) => r.sageId)).toEqual(["TAILS001"]);
    const warned = (await w.actionLog()).filter((r) => r.message.startsWith("Deleted in Sage 50"));
    expect(warned.at(-1)!.message).toContain("Tailspin Toys Ltd");
  });

  it("300 orders: an upload whose answer was dropped after Sage stored it and a tracking stuck for a while → each order in exactly one accepted upload", async () => {
    await w.mapCatalog();
    const orders: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < 300; i++) orders.push(await w.order(i % 2 ? fabrikam : contoso, [{ mpn: i % 3 ? "M365-BASIC-M" : "M365-STD-M", quantity: String(1 + (i % 4)) }]));
    const before = (await w.company()).documents.length;
    await w.control("POST", "faults", { kind: "drop_after_store", uploads: 1 });
    await w.control("POST", "faults", { kind: "tracking_stuck", uploads: 1 });
    const syncing = w.syncAll(orders.map((o) => o.taskId));
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await w.control("POST", "release-stuck")) as { released: number }).toEqual({ released: 1 });
    await syncing;

    const company = await w.company();
    const docs = company.documents.slice(before);
    const ours = new Set(orders.map((o) => o.orderId));
    expect(docs.filter((d) => ours.has(d.orderId))).toHaveLength(300);
    expect(new Set(docs.map((d) => d.orderId)).size).toBe(300);
    const uploads = company.uploads.filter((u) => docs.some((d) => d.uploadId === u.uploadId));
    expect(uploads.map((u) => [u.status, u.records])).toEqual([["accepted", 250], ["accepted", 50]]);
    // both faults fired: the dropped answer was resumed without a second upload, the stuck one was read many times
    const log = (await w.actionLog()).map((r) => r.message);
    expect(log.filter((m) => m.includes("was already with Sage 50 (an earlier attempt's answer was lost)"))).toHaveLength(1);
    const tasks = await w.tasks(orders.map((o) => o.taskId));
    expect(tasks.map((t) => t.state).filter((s) => s !== "synced")).toEqual([]);
    // every task's document carries Sage 50's number for its order
    const numberOf = new Map(docs.map((d) => [d.orderId, d.documentNumber]));
    const recorded = await w.db.select().from(sageDocuments).where(eq(sageDocuments.kind, "sales_invoice"));
    const byTask = new Map(recorded.map((r) => [r.taskId, r]));
    for (const o of orders) expect(byTask.get(o.taskId)?.sageId).toBe(numberOf.get(o.orderId));
  }, 240_000);

  it("a partially failed result: only those orders fail, each with Sage 50's own message; the others are synced", async () => {
    const orders: { orderId: string; taskId: string }[] = [];
    for (let i = 0; i < 5; i++) orders.push(await w.order(contoso, [{ mpn: "M365-BASIC-M", quantity: "2" }]));
    const refused = [orders[1]!.orderId, orders[3]!.orderId];
    await w.control("POST", "faults", { kind: "partial_failure", recordIds: refused, message: "Customer CONTO001 is on stop" });
    try {
      await w.syncAll(orders.map((o) => o.taskId));
    } finally {
      await w.control("DELETE", "faults");
    }
    const tasks = new Map((await w.tasks(orders.map((o) => o.taskId))).map((t) => [t.id, t]));
    for (const o of orders) {
      const t = tasks.get(o.taskId)!;
      if (refused.includes(o.orderId)) {
        expect([t.state, t.reason]).toEqual(["failed", "Sage 50 Cloud refused the document — Customer CONTO001 is on stop"]);
      } else expect(t.state).toBe("synced");
    }
    const docs = (await w.company()).documents.filter((d) => orders.some((o) => o.orderId === d.orderId));
    expect(docs.map((d) => d.orderId).sort()).toEqual(orders.filter((o) => !refused.includes(o.orderId)).map((o) => o.orderId).sort());
    // the failed orders hold no pending marker: a later sync writes them again
    const markers = await w.db.select().from(sageDocuments).where(eq(sageDocuments.reference, refused[0]!));
    expect(markers).toEqual([]);
  }, 120_000);

  it("a refused rotation makes the connection reconnect_required, says so in the Action Log, and a new passcode reconnects it", async () => {
    const conn = (await w.connection())!;
    const [app] = await w.db.select().from(fileExchangeApplications).where(eq(fileExchangeApplications.target, "sage-50-cloud"));
    // the platform will not rotate with a secret it does not know
    await w.db.update(fileExchangeApplications).set({ secretEncrypted: encryptSecret("not-the-application-secret") }).where(eq(fileExchangeApplications.id, app!.id));
    await w.control("POST", "faults", { kind: "expire_key_after", calls: 0 });
    const files = await sageFiles(w.db, conn.id, { paced: false });
    await expect(files.listFiles()).rejects.toMatchObject({ kind: "auth", reconnectRequired: true });
    const [after] = await w.db.select().from(connections).where(eq(connections.id, conn.id));
    expect(after!.status).toBe("reconnect_required");
    expect((await w.actionLog()).some((r) => r.level === "error" && r.message.startsWith("Sage 50 Cloud refused to rotate the API key"))).toBe(true);

    await w.db.update(fileExchangeApplications).set({ secretEncrypted: app!.secretEncrypted }).where(eq(fileExchangeApplications.id, app!.id));
    await w.consent("grant");
    const [back] = await w.db.select().from(connections).where(eq(connections.id, conn.id));
    expect(back!.status).toBe("connected");
    expect((await (await sageFiles(w.db, conn.id, { paced: false })).listFiles()).length).toBe(2);
  });

  it("\"New passcode\" leaves the older one valid: granting the older one is what the connect page sees", async () => {
    const first = await issuePasscode(w.db, { tenantId: w.tenantId, targetId: "sage-50-cloud", country: "gb", actor: w.actor });
    const second = await issuePasscode(w.db, { tenantId: w.tenantId, targetId: "sage-50-cloud", country: "gb", actor: w.actor });
    expect(second.passcode).not.toBe(first.passcode);
    expect((await latestPasscode(w.db, { tenantId: w.tenantId, targetId: "sage-50-cloud" }))!.id).toBe(second.id);
    const res = await fetch(`${w.sandbox.url}/sage50/desktop/decision`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ company: GB_COMPANY, passcode: first.passcode, decision: "grant" }) });
    expect(res.status).toBe(200);
    expect(await latestPasscode(w.db, { tenantId: w.tenantId, targetId: "sage-50-cloud" })).toMatchObject({ id: first.id, status: "granted" });
  });
});
