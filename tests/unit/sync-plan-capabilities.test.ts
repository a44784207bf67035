import { describe, expect, it } from "vitest";
import { SAGE_TARGETS } from "@/lib/sage/targets";
import type { SageCapabilityTable } from "@/lib/sage/target";
import { planSync, type PlanInput } from "@/lib/sync/plan";
import type { TaskItem } from "@/lib/tasks/order-to-task";

/**
 * The sync checks the target's capability table before it writes (the one planner both the
 * per-task flow and Sync all call): what the target cannot create makes the task action_required
 * with a sentence saying why — never a crash, never a silent skip.
 */
const all = { read: true, create: true, update: true };
const full: SageCapabilityTable = { contacts: all, items: all, invoices: all, credit_notes: all, allocations: all };

function input(items: TaskItem[], capabilities: SageCapabilityTable): PlanInput {
  return {
    orderId: "PR-CAP",
    orderType: "change",
    items,
    settings: { priceSource: "marketplace", trimDescription: false, downgrades: "credit_note" },
    products: new Map([["M365-STD", { name: "Microsoft 365 Business Standard", description: null, unitPrice: "12.50", kind: "item" as const }]]),
    itemMappings: new Map([["M365-STD", { sageItemId: "svc", type: "service" as const, description: "M365", salesPrice: "11.00", salesLedgerAccountId: "la", salesTaxRateId: "GB_STANDARD" }]]),
    cancellationFee: null,
    taxRates: new Map([["GB_STANDARD", { id: "GB_STANDARD", percentage: 20 }]]),
    defaults: { ledgerAccountId: "la", taxRateId: "GB_STANDARD" },
    target: { label: "Test Sage", capabilities },
  };
}
const downgrade: TaskItem[] = [{ mpn: "M365-STD", quantity: 3, oldQuantity: 5, change: "downgrade", delta: -2, unitPrice: "12.50" }];
const upgrade: TaskItem[] = [{ mpn: "M365-STD", quantity: 5, oldQuantity: 3, change: "upgrade", delta: 2, unitPrice: "12.50" }];

describe("planSync: the target's capabilities", () => {
  it("a refund for a target that cannot create credit notes is action_required, saying why", () => {
    const plan = planSync(input(downgrade, { ...full, credit_notes: { read: true, create: false, update: false } }));
    expect(plan).toEqual({
      kind: "action_required",
      reason: "This order needs a credit note, which Test Sage cannot create through the connector. Record it in Sage by hand, then ignore the task. Nothing was written to Sage.",
      link: null,
      unmapped: [],
    });
  });

  it("the same refund plans a credit note of 2 × 12.50 when the target can create one", () => {
    const plan = planSync(input(downgrade, full));
    if (plan.kind !== "write") throw new Error(`expected a write, got ${JSON.stringify(plan)}`);
    expect(plan.creditNoteLines.map((l) => [l.quantity, l.unitPrice, l.netAmount])).toEqual([[2, 12.5, 25]]);
    expect(plan.invoiceLines).toEqual([]);
  });

  it("an invoice the target cannot create is action_required; a credit-note gap does not stop an invoice-only order", () => {
    const noInvoices = planSync(input(upgrade, { ...full, invoices: { read: true, create: false, update: false } }));
    expect(noInvoices.kind === "action_required" && noInvoices.reason).toBe("This order needs an invoice, which Test Sage cannot create through the connector. Record it in Sage by hand, then ignore the task. Nothing was written to Sage.");
    const noCredit = planSync(input(upgrade, { ...full, credit_notes: { read: true, create: false, update: false } }));
    expect(noCredit.kind).toBe("write");
  });

  it("every target publishes a full table, and Sage Business Cloud Accounting creates every document the sync writes", () => {
    for (const t of Object.values(SAGE_TARGETS)) {
      expect(Object.keys(t.capabilities).sort()).toEqual(["allocations", "contacts", "credit_notes", "invoices", "items"]);
    }
    const acc = SAGE_TARGETS["sage-accounting"].capabilities;
    expect([acc.contacts.create, acc.invoices.create, acc.credit_notes.create, acc.allocations.create]).toEqual([true, true, true, true]);
  });
});
