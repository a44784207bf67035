// Order generator for tests and benchmarks: N realistic requests against the account's catalog
// and customers, keeping subscription state consistent (old_quantity always right).
import { DAY_MS, prng } from "./catalog";
import { OrderError, REQUEST_TYPES, type AccountWorld, type OrderInput, type ProductRec, type RequestRec, type RequestType, type Subscription } from "./world";

export interface GenerateOptions {
  count: number;
  types?: RequestType[];
  customer_ids?: string[];
  mpns?: string[];
  /** Spread the orders' times evenly over the last N days (default 0: all now). */
  backdate_days?: number;
}

const WEIGHTS: Record<RequestType, number> = { purchase: 35, change: 35, billing: 15, cancel: 7, suspend: 4, resume: 4 };

export function generateOrders(w: AccountWorld, opts: GenerateOptions, nowMs: number): RequestRec[] {
  const rnd = prng(`${w.id}:orders:${w.requests.length}`);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const allowed = (opts.types?.length ? opts.types : [...REQUEST_TYPES]).filter((t, i, a) => a.indexOf(t) === i);
  const totalWeight = allowed.reduce((s, t) => s + WEIGHTS[t], 0);
  const pickType = (): RequestType => {
    let x = rnd() * totalWeight;
    for (const t of allowed) {
      x -= WEIGHTS[t];
      if (x < 0) return t;
    }
    return allowed[allowed.length - 1] as RequestType;
  };

  const customerIds = opts.customer_ids?.length ? opts.customer_ids : w.customers.map((c) => c.api.id);
  for (const id of customerIds) if (!w.customersById.has(id)) throw new OrderError(`unknown customer ${id} in account ${w.id}`);
  const customerSet = new Set(customerIds);
  let orderable: ProductRec[];
  if (opts.mpns?.length) {
    orderable = opts.mpns.map((m) => {
      const p = w.productsByMpn.get(m);
      if (!p || p.api.type !== "item") throw new OrderError(`unknown or non-orderable mpn ${m} in account ${w.id}`);
      return p;
    });
  } else {
    orderable = w.products.filter((p) => p.api.type === "item" && !p.usage);
  }
  const usage = w.products.filter((p) => p.usage);
  if (orderable.length === 0) throw new OrderError("no orderable products");

  const pickSub = (which: "active" | "suspended"): Subscription | undefined => {
    for (let tries = 0; tries < 20; tries++) {
      const s = w.pickSubscription(which, rnd);
      if (!s) return undefined;
      if (customerSet.has(s.customerId)) return s;
    }
    return undefined;
  };

  const count = opts.count;
  const days = opts.backdate_days ?? 0;
  const start = nowMs - days * DAY_MS;
  const out: RequestRec[] = [];
  for (let i = 0; i < count; i++) {
    const atMs = days > 0 ? start + Math.floor(((nowMs - start) * i) / Math.max(1, count - 1)) : nowMs;
    const type = pickType();
    let input: OrderInput | null = null;
    if (type === "change") {
      const sub = pickSub("active");
      const entry = sub ? [...sub.items][Math.floor(rnd() * sub.items.size)] : undefined;
      if (sub && entry) {
        const [mpn, q] = entry;
        const up = q <= 1 || rnd() < 0.6;
        const next = up ? q + int(1, 10) : Math.max(1, q - int(1, q - 1));
        input = { type, subscription_id: sub.id, items: [{ mpn, quantity: next }], atMs };
      }
    } else if (type === "cancel") {
      const sub = pickSub(rnd() < 0.9 ? "active" : "suspended") ?? pickSub("active");
      if (sub) input = { type, subscription_id: sub.id, cancellation_fee: rnd() < 0.5, atMs };
    } else if (type === "suspend") {
      const sub = pickSub("active");
      if (sub) input = { type, subscription_id: sub.id, atMs };
    } else if (type === "resume") {
      const sub = pickSub("suspended");
      if (sub) input = { type, subscription_id: sub.id, atMs };
    } else if (type === "billing") {
      const sub = pickSub("active");
      const p = usage.length ? usage[Math.floor(rnd() * usage.length)] : orderable[Math.floor(rnd() * orderable.length)];
      if (sub && p) input = { type, subscription_id: sub.id, items: [{ mpn: p.api.mpn, quantity: int(1, 500) }], atMs };
    }
    if (!input) {
      // purchase, or a type that needs a subscription when none fits yet
      const p = orderable[Math.floor(rnd() * orderable.length)] as ProductRec;
      const customer = customerIds[Math.floor(rnd() * customerIds.length)] as string;
      const quantity = p.api.billing_period === "one_time" ? int(1, 5) : int(1, 25);
      input = { type: "purchase", customer_id: customer, items: [{ mpn: p.api.mpn, quantity }], atMs };
    }
    out.push(w.placeOrder(input));
  }
  return out;
}
