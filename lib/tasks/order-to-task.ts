import type { OrderType, TaskItemDelta, TaskState } from "@/db/schema";
import type { MarketplaceRequestDto } from "@/lib/marketplace/api-schemas";

/**
 * Order → task, as a pure function (no I/O): what push and pull both record.
 *
 * - request type: purchase → Sales, change → Change, billing → Billing, cancel → Cancellation.
 * - suspend / resume: recorded (so the order is known and never re-read as new) but created
 *   `ignored` with the reason below, and they cannot be un-ignored: a suspension or a resumption
 *   changes no invoice. They carry order type `change` (the closest of the four).
 * - per item: `old_quantity = 0` → added, `quantity = 0` → removed, more → upgrade, fewer →
 *   downgrade, same → unchanged; billing requests: `usage` (quantity is the usage to bill).
 * - a quantity that is not a plain non-negative number (e.g. "ten", "", "-3") makes the task
 *   `action_required` with a reason naming the item and the value; the item keeps `invalid`.
 */

export const SUSPEND_RESUME_REASON = "Suspensions and resumptions do not change invoices";

/** Request types whose tasks are ignored for good (no un-ignore). */
export const NEVER_SYNCED_REQUEST_TYPES = ["suspend", "resume"] as const;

export const ORDER_TYPE_LABELS: Record<OrderType, string> = { sales: "Sales", change: "Change", billing: "Billing", cancellation: "Cancellation" };

/** A stored item: TaskItemDelta, plus why its quantities could not be read (the numbers are then 0). */
export type TaskItem = TaskItemDelta & { invalid?: string };

export type TaskDraft = {
  marketplaceOrderId: string;
  marketplaceCustomerId: string;
  requestType: string;
  orderType: OrderType;
  state: Extract<TaskState, "pending" | "action_required" | "ignored">;
  reason: string | null;
  reasonLink: string | null;
  items: TaskItem[];
  currency: string | null;
  billingPeriod: string | null;
  orderCreatedAt: Date;
  /** the order's `updated` (or `created`): a later version of the same order may refresh a pending task */
  orderUpdatedAt: Date;
};

const REQUEST_TO_ORDER_TYPE: Record<MarketplaceRequestDto["type"], OrderType> = {
  purchase: "sales",
  change: "change",
  billing: "billing",
  cancel: "cancellation",
  suspend: "change",
  resume: "change",
};

const NUMBER = /^\d+(\.\d+)?$/;

/** A marketplace quantity string as a number, or undefined when it is not a plain non-negative number. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function show(value: unknown) {
  return typeof value === "string" ? `“${value}”` : JSON.stringify(value) ?? String(value);
}

function classify(requestType: string, quantity: number, oldQuantity: number): TaskItemDelta["change"] {
  if (requestType === "billing") return "usage";
  if (quantity === oldQuantity) return "unchanged";
  if (oldQuantity === 0) return "added";
  if (quantity === 0) return "removed";
  return quantity > oldQuantity ? "upgrade" : "downgrade";
}

function parseDate(value: string | null | undefined, fallback: Date): Date {
  if (!value) return fallback;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? fallback : d;
}

export function orderToTask(order: MarketplaceRequestDto): TaskDraft {
  const problems: string[] = [];
  const items: TaskItem[] = order.asset.items.map((item) => {
    const quantity = parseQuantity(item.quantity);
    const oldQuantity = parseQuantity(item.old_quantity);
    const base = { mpn: item.mpn, ...(item.name ? { name: item.name } : {}), unitPrice: item.unit_price ?? null, ...(item.amount !== null && item.amount !== undefined ? { amount: item.amount } : {}) };
    if (quantity === undefined || oldQuantity === undefined) {
      const bad = [
        quantity === undefined ? `quantity ${show(item.quantity)}` : null,
        oldQuantity === undefined ? `old quantity ${show(item.old_quantity)}` : null,
      ].filter(Boolean).join(" and ");
      const invalid = `Item ${item.mpn} has ${bad}, which is not a number`;
      problems.push(invalid);
      return { ...base, quantity: quantity ?? 0, oldQuantity: oldQuantity ?? 0, change: "unchanged" as const, delta: 0, invalid };
    }
    return { ...base, quantity, oldQuantity, change: classify(order.type, quantity, oldQuantity), delta: quantity - oldQuantity };
  });

  const created = parseDate(order.created, new Date(0));
  const customer = order.asset.tiers.customer;
  const draft: TaskDraft = {
    marketplaceOrderId: order.id,
    marketplaceCustomerId: customer.id,
    requestType: order.type,
    orderType: REQUEST_TO_ORDER_TYPE[order.type],
    state: "pending",
    reason: null,
    reasonLink: null,
    items,
    currency: order.currency ?? customer.currency ?? null,
    billingPeriod: order.billing_period ?? null,
    orderCreatedAt: created,
    orderUpdatedAt: parseDate(order.updated, created),
  };

  if ((NEVER_SYNCED_REQUEST_TYPES as readonly string[]).includes(order.type)) {
    return { ...draft, state: "ignored", reason: SUSPEND_RESUME_REASON };
  }
  if (problems.length > 0) {
    return {
      ...draft,
      state: "action_required",
      reason: `${problems.join("; ")}. Correct the order in the marketplace (the task is updated when the order changes) or ignore the task.`,
    };
  }
  if (items.length === 0) {
    return { ...draft, state: "action_required", reason: "The order lists no items, so there is nothing to invoice. Check the order in the marketplace or ignore the task." };
  }
  return draft;
}

/**
 * "10 × M365-BASIC-M added", "M365 5 → 8 (upgrade)", … for logs and the task list. The Action Log's
 * stored text keeps plain numbers; a page passes its locale's number format (`useFormat().number`).
 */
export function describeItem(item: TaskItem, num: (n: number) => string = String): string {
  if (item.invalid) return item.invalid;
  switch (item.change) {
    case "added":
      return `${num(item.quantity)} × ${item.mpn} added`;
    case "removed":
      return `${item.mpn} removed (was ${num(item.oldQuantity)})`;
    case "upgrade":
    case "downgrade":
      return `${item.mpn} ${num(item.oldQuantity)} → ${num(item.quantity)} (${item.change})`;
    case "usage":
      return `${num(item.quantity)} × ${item.mpn} usage`;
    default:
      return `${item.mpn} unchanged (${num(item.quantity)})`;
  }
}
