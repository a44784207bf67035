// What the marketplace tells the installed plugin, as webhooks (see webhooks.ts for delivery).
import type { Sandbox } from "../context";
import type { AccountWorld, CustomerRec, ProductRec, RequestRec } from "./world";

/** customer.created (the first time this customer reaches the installation). Returns events queued. */
export function announceCustomer(sb: Sandbox, w: AccountWorld, c: CustomerRec): number {
  if (!w.installation || c.announced) return 0;
  const e = sb.webhooks.emit(w.id, "customer.created", { customer: c.api });
  if (e) c.announced = true;
  return e ? 1 : 0;
}

/** order.created (preceded by customer.created when the customer is new to the plugin). */
export function announceOrder(sb: Sandbox, w: AccountWorld, r: RequestRec, type: "order.created" | "order.updated" = "order.created"): number {
  if (!w.installation) return 0;
  let n = 0;
  const c = w.customersById.get(r.customerId);
  if (c) n += announceCustomer(sb, w, c);
  if (sb.webhooks.emit(w.id, type, { request: r.api })) n += 1;
  return n;
}

export function announceProduct(sb: Sandbox, w: AccountWorld, p: ProductRec, type: "product.created" | "product.updated"): number {
  if (!w.installation) return 0;
  return sb.webhooks.emit(w.id, type, { product: p.api }) ? 1 : 0;
}
