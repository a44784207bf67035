import { describe, expect, it } from "vitest";
import { planSync, type PlanInput } from "@/lib/sync/plan";
import type { TaskItem } from "@/lib/tasks/order-to-task";

/**
 * An order that is itself unusable (a quantity that is not a number, or no items) is action_required
 * when it arrives. Syncing it again ("Sync all" takes action-required tasks too) must keep it
 * action_required with nothing written — not mark it synced with "nothing to invoice".
 */
function input(items: TaskItem[]): PlanInput {
  return {
    orderId: "PR-BAD",
    orderType: "sales",
    items,
    settings: { priceSource: "marketplace", trimDescription: false, downgrades: "credit_note" },
    products: new Map([["M365-STD", { name: "Microsoft 365 Business Standard", description: null, unitPrice: "12.50", kind: "item" as const }]]),
    itemMappings: new Map([["M365-STD", { sageItemId: "svc", type: "service" as const, description: "M365", salesPrice: "11.00", salesLedgerAccountId: "la", salesTaxRateId: "GB_STANDARD" }]]),
    cancellationFee: null,
    taxRates: new Map([["GB_STANDARD", { id: "GB_STANDARD", percentage: 20 }]]),
    defaults: { ledgerAccountId: "la", taxRateId: "GB_STANDARD" },
  };
}

describe("planSync: unusable orders", () => {
  it("a quantity that is not a number stays action_required, naming the item and the value", () => {
    const plan = planSync(input([{ mpn: "M365-STD", quantity: 0, oldQuantity: 0, change: "unchanged", delta: 0, unitPrice: "12.50", invalid: 'Item M365-STD has quantity "ten", which is not a number' }]));
    expect(plan.kind).toBe("action_required");
    if (plan.kind !== "action_required") throw new Error();
    expect(plan.reason).toContain('Item M365-STD has quantity "ten", which is not a number');
    expect(plan.reason).toContain("Nothing was written to Sage.");
    expect(plan.link).toBeNull();
  });

  it("an order without items stays action_required", () => {
    const plan = planSync(input([]));
    expect(plan.kind).toBe("action_required");
    if (plan.kind !== "action_required") throw new Error();
    expect(plan.reason).toContain("The order lists no items");
  });
});
