import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { fileUploads, sageCalls } from "@/db/schema";
import { getOrderTrace } from "@/lib/trace/order-trace";
import { startSage50World, type Sage50World } from "../helpers/sage50-world";

/**
 * The order trace of a Sage 50 Cloud order (#13): one order file serves many orders, so its calls are
 * recorded under the upload's id (no task) and every order of the upload shows them; the document
 * has its number and no link.
 */
describe("order trace (Sage 50 Cloud)", () => {
  let w: Sage50World;
  const contoso = { id: "MC-CONTOSO", name: "Contoso Ltd", email: "billing@contoso.example", sageCustomerId: "CONTO001" };

  beforeAll(async () => {
    w = await startSage50World();
    await w.install();
    await w.register();
    await w.consent("grant");
    await w.refreshCatalog();
    await w.mapCatalog();
  }, 120_000);
  afterAll(async () => w?.close());

  it("two orders in one upload: each trace shows the upload's calls (shared, under its id), the document number without a link", async () => {
    const a = await w.order(contoso, [{ mpn: "M365-BASIC-M", quantity: "2" }]);
    const b = await w.order(contoso, [{ mpn: "M365-STD-M", quantity: "1" }]);
    await w.syncAll([a.taskId, b.taskId]);
    const tasks = await w.tasks([a.taskId, b.taskId]);
    expect(tasks.map((t) => t.state)).toEqual(["synced", "synced"]);
    const [upload] = await w.db.select().from(fileUploads).where(eq(fileUploads.tenantId, w.tenantId));
    expect([...upload!.taskIds].sort()).toEqual([a.taskId, b.taskId].sort());
    const recorded = await w.db.select().from(sageCalls).where(eq(sageCalls.batchId, upload!.uploadId));
    // the upload's calls in order: is it there already (404) → the upload (202) → tracking until final → the result file
    const u = `/sage50/api/uploads/${upload!.uploadId}`;
    const seen = recorded.sort((x, y) => x.at.getTime() - y.at.getTime() || x.id - y.id).map((c) => `${c.method} ${c.path} ${c.status}`);
    expect(seen.slice(0, 2)).toEqual([`GET ${u} 404`, "POST /sage50/api/uploads 202"]);
    expect(seen.at(-1)).toBe(`GET ${u}/result 200`);
    expect(seen.slice(2, -1).length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen.slice(2, -1))).toEqual(new Set([`GET ${u} 200`]));
    expect(recorded.every((c) => c.taskId === null && c.target === "sage-50-cloud" && c.attempt === 1)).toBe(true);

    for (const t of [a, b]) {
      const trace = (await getOrderTrace(w.db, { tenantId: w.tenantId, taskId: t.taskId }, { inlineRunner: true }))!;
      const calls = trace.entries.filter((e) => e.kind === "sage_call");
      expect(calls.map((e) => e.id).sort()).toEqual(recorded.map((c) => `call-${c.id}`).sort());
      expect(calls.every((e) => e.sageCall!.shared && e.sageCall!.batchId === upload!.uploadId)).toBe(true);
      const doc = trace.entries.find((e) => e.kind === "document" && e.title.startsWith("sales invoice"))!;
      expect(doc.status).toBe("written");
      expect(doc.link).toBeUndefined();
      expect(doc.details).toContainEqual({ label: "Link", value: "Sage 50 documents live in the desktop product: no link" });
    }
  }, 120_000);
});
