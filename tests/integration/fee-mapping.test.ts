import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { feeMappings, productMappings, syncTasks } from "@/db/schema";
import { SAGE_ITEM_CREATE_REQUESTED } from "@/inngest/functions/sage-item-create";
import { SYNC_TASK_REQUESTED } from "@/inngest/functions/sync-task";
import type { MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";
import { listFeeMappings } from "@/lib/mapping/fees";
import { getRequestOutcomes } from "@/lib/mapping/status";
import { recordOrder } from "@/lib/tasks/record-order";
import { startMappingWorld, type MappingWorld } from "./mapping-helpers";

/**
 * Issue #10 (a): "Add to Sage" on the marketplace's cancellation-fee product maps it where fees are
 * read — the fee mapping (the Fees pane) — so the answer, the Fees pane and the sync agree on one
 * Sage item.
 */
describe("Fee mapping: Add to Sage on the cancellation-fee product", () => {
  let w: MappingWorld;
  let feeProductId: string;

  const addToSage = async (productId: string) => {
    const requestId = w.requestId();
    const { runIds } = await w.runner.send({ name: SAGE_ITEM_CREATE_REQUESTED, data: { tenantId: w.tenantId, connectionId: w.connectionId, productId, requestId, type: "service", actor: w.actor } });
    const run = await w.runner.waitForRun(runIds[0]!, { timeoutMs: 30_000 });
    if (run.status !== "completed") throw new Error(`run ${run.status}: ${run.lastError}`);
    const [outcome] = await getRequestOutcomes(w.db.db, w.tenantId, [requestId]);
    return { run, outcome };
  };

  beforeAll(async () => {
    w = await startMappingWorld();
    feeProductId = await w.product({ id: "PRD-FEE", mpn: "CANCEL-FEE", name: "Cancellation fee", type: "fee", fee_kind: "cancellation", unit_price: "25", billing_period: "one_time" });
  }, 60_000);
  afterAll(async () => w?.close());

  it("the answer and the Fees pane both say mapped, to the same new Sage item; no product mapping is made", async () => {
    expect((await listFeeMappings(w.db.db, w.tenantId))[0]).toMatchObject({ feeKind: "cancellation", mapping: null, marketplaceProducts: [{ id: feeProductId, mpn: "CANCEL-FEE" }] });
    expect((await w.state()).services.filter((s) => s.item_code === "CANCEL-FEE")).toHaveLength(0);
    await w.clearRequestLog();

    const { run, outcome } = await addToSage(feeProductId);
    const created = (await w.state()).services.filter((s) => s.item_code === "CANCEL-FEE");
    expect(created).toHaveLength(1);
    const sageItemId = created[0]!.id;
    // a fee is booked as income on Other Income (4900), at the marketplace's fee price
    const asSage = (await w.sage.GET("/services/{key}", { params: { path: { key: sageItemId } } })).data as unknown as { sales_ledger_account: { displayed_as: string } };
    expect(asSage.sales_ledger_account.displayed_as).toBe("Other Income (4900)");
    expect((created[0] as unknown as { prices: { price: number }[] }).prices.map((p) => p.price)).toEqual([25]);
    expect((await w.requestLog()).filter((l) => l.route === "sage.services.create" && l.status === 201)).toHaveLength(1);
    expect(run.output).toEqual({ ok: true, outcome: "created", sageItemId, type: "service" });
    expect(outcome).toMatchObject({ state: "done", ok: true, level: "success", message: "Added to Sage and mapped as the Cancellation fee: Cancellation fee (CANCEL-FEE) → new Sage service CANCEL-FEE “Cancellation fee”" });

    // the Fees pane (GET /api/mapping/fees reads listFeeMappings) shows the same item
    const [fee] = await listFeeMappings(w.db.db, w.tenantId);
    expect(fee!.mapping).toEqual({ sageItemId, sageItemType: "service", sageItemName: "Cancellation fee", itemExists: true });
    expect(await w.db.db.select({ sageItemId: feeMappings.sageItemId }).from(feeMappings).where(and(eq(feeMappings.tenantId, w.tenantId), eq(feeMappings.feeKind, "cancellation")))).toEqual([{ sageItemId }]);
    // one source of truth for the fee's item: no product mapping of the fee product
    expect(await w.db.db.select().from(productMappings).where(eq(productMappings.productId, feeProductId))).toHaveLength(0);
  });

  it("a second Add to Sage creates nothing and says the fee is already mapped", async () => {
    const [before] = await listFeeMappings(w.db.db, w.tenantId);
    await w.clearRequestLog();
    const { run, outcome } = await addToSage(feeProductId);
    expect(run.output).toMatchObject({ ok: true, outcome: "already_mapped", sageItemId: before!.mapping!.sageItemId });
    expect(outcome).toMatchObject({
      state: "done",
      ok: true,
      message: "Cancellation fee (CANCEL-FEE) is already mapped: the Cancellation fee is invoiced as Sage service CANCEL-FEE “Cancellation fee”; nothing added to Sage",
    });
    expect((await w.requestLog()).filter((l) => l.route === "sage.services.create")).toHaveLength(0);
    expect((await w.state()).services.filter((s) => s.item_code === "CANCEL-FEE")).toHaveLength(1);
  });

  it("the sync invoices the cancellation fee as that Sage item", async () => {
    const [fee] = await listFeeMappings(w.db.db, w.tenantId);
    const sageItemId = fee!.mapping!.sageItemId;
    const created = new Date().toISOString();
    const order = {
      id: "PR-FEE-1",
      type: "cancel",
      status: "approved",
      created,
      updated: created,
      currency: "GBP",
      billing_period: "monthly",
      account_id: "RES-1001",
      asset: {
        id: "AS-TA-7001",
        items: [{ mpn: "CANCEL-FEE", quantity: "1", old_quantity: "0", unit_price: "25.00" }],
        tiers: { customer: { id: "TA-7001", name: "Fabrikam Fees Ltd", contact_info: { email: "ap@fabrikam-fees.example" }, currency: "GBP" } },
      },
      marketplace: { id: "demo-marketplace" },
    } as MarketplaceRequestDto;
    const { taskId } = await w.db.db.transaction((tx) => recordOrder(tx, { tenantId: w.tenantId, order, source: "pull", actor: w.actor }));
    const { runIds } = await w.runner.send({ name: SYNC_TASK_REQUESTED, data: { tenantId: w.tenantId, taskId: taskId!, connectionId: w.connectionId } });
    await w.runner.waitForRun(runIds[0]!, { timeoutMs: 60_000 });
    const [task] = await w.db.db.select().from(syncTasks).where(eq(syncTasks.id, taskId!));
    expect({ state: task!.state, reason: task!.reason }).toEqual({ state: "synced", reason: null });
    const state = (await (await fetch(`${w.sandbox.url}/__sandbox/state?business=${w.businessId}`)).json()) as {
      sales_invoices: { reference?: string; invoice_lines: { quantity: number; unit_price: number; service?: { id: string } | null }[] }[];
    };
    const invoices = state.sales_invoices.filter((i) => i.reference === "PR-FEE-1");
    expect(invoices).toHaveLength(1);
    expect(invoices[0]!.invoice_lines.map((l) => ({ service: l.service?.id, quantity: Number(l.quantity), unitPrice: Number(l.unit_price) }))).toEqual([{ service: sageItemId, quantity: 1, unitPrice: 25 }]);
  });
});
