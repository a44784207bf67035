// In-memory state of the simulated CloudBlue-style marketplace, one world per reseller account:
// catalog, customers, subscriptions (Connect "assets"), fulfillment requests (orders) and the
// plugin installation. Shapes follow docs/marketplace-api.md (Connect fulfillment requests).
import { randomBytes } from "node:crypto";
import {
  ACCOUNT_ID_PATTERN,
  CUSTOMER_SEEDS,
  DAY_MS,
  PRODUCT_SEEDS,
  SEED_CREATED_MS,
  accountNumber,
  generatedProductSeed,
  isoSeconds,
  pad,
  truncSeconds,
  type BillingPeriod,
  type ProductFamily,
  type ProductSeed,
  type ProductType,
} from "./catalog";
import { MARKETPLACE_ACCOUNT, MARKETPLACE_ID } from "./identity";

export const REQUEST_TYPES = ["purchase", "change", "suspend", "resume", "cancel", "billing"] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const CATALOG_CURRENCY = "GBP";

// ---- API shapes (docs/marketplace-api.md) ----

export interface ApiCustomer {
  id: string;
  name: string;
  external_id: string;
  contact_info: {
    email: string;
    contact_name: string;
    phone: string;
    address: { line1: string; city: string; postal_code: string; country: string };
    /** VAT registration number; "" when the customer has none */
    tax_id: string;
  };
  currency: string;
  created: string;
  updated: string;
}

export interface ApiProduct {
  id: string;
  mpn: string;
  name: string;
  description: string;
  unit_price: string;
  currency: string;
  billing_period: BillingPeriod;
  type: ProductType;
  fee_kind: "cancellation" | null;
  updated: string;
}

export interface ApiItem {
  id: string;
  mpn: string;
  quantity: string;
  old_quantity: string;
  unit_price: string;
  name: string;
}

export interface ApiRequest {
  id: string;
  type: RequestType;
  status: "approved";
  created: string;
  updated: string;
  currency: string;
  billing_period: BillingPeriod;
  asset: {
    id: string;
    external_id: string;
    product: { id: string; name: string };
    items: ApiItem[];
    tiers: { customer: { id: string; name: string; contact_info: { email: string }; currency: string } };
  };
  marketplace: { id: string };
  account_id: string;
}

// ---- records ----

export interface ProductRec {
  api: ApiProduct;
  eurPrice: string;
  family: ProductFamily;
  usage: boolean;
  updatedMs: number;
}

export interface CustomerRec {
  api: ApiCustomer;
  updatedMs: number;
  /** customer.created has been sent to the installation. */
  announced: boolean;
}

export type SubscriptionStatus = "active" | "suspended" | "terminated";

export interface Subscription {
  id: string;
  externalId: string;
  customerId: string;
  family: ProductFamily;
  currency: string;
  billingPeriod: BillingPeriod;
  status: SubscriptionStatus;
  /** mpn → quantity (only items with quantity > 0). */
  items: Map<string, number>;
  createdMs: number;
  updatedMs: number;
  requestIds: string[];
}

export interface RequestRec {
  api: ApiRequest;
  createdMs: number;
  updatedMs: number;
  customerId: string;
  subscriptionId: string | null;
  malformed: boolean;
}

export interface Installation {
  id: string;
  accountId: string;
  productId: string;
  webhookUrl: string;
  /** Signing secrets, newest first; more than one during a rotation. */
  secrets: string[];
  createdMs: number;
  updatedMs: number;
  /** Set when the endpoint answered 410 Gone; cleared by registering again. */
  disabled: boolean;
  /** Set when the reseller uninstalled the plugin in the store; cleared by registering (installing) again. */
  uninstalledMs?: number | null;
}

export class OrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OrderError";
  }
}

export interface OrderItemInput {
  mpn: string;
  quantity: number;
}

export interface OrderInput {
  type: RequestType;
  customer_id?: string;
  subscription_id?: string;
  items?: OrderItemInput[];
  /** cancel: add the catalog's cancellation fee (default true when the catalog has one). */
  cancellation_fee?: boolean;
  /** Request time (default: the sandbox clock). */
  atMs?: number;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

function quantityString(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4)));
}

/** A set with O(1) add/remove and random pick (for the generator). */
class IndexedSet {
  private readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  get size(): number {
    return this.list.length;
  }
  add(id: string): void {
    if (this.index.has(id)) return;
    this.index.set(id, this.list.length);
    this.list.push(id);
  }
  delete(id: string): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    const last = this.list.pop() as string;
    if (last !== id) {
      this.list[i] = last;
      this.index.set(last, i);
    }
    this.index.delete(id);
  }
  at(i: number): string | undefined {
    return this.list[i];
  }
  values(): string[] {
    return this.list.slice();
  }
}

/** Plain-JSON form of one account world (persistence; Maps become arrays, indexes are rebuilt). */
export interface AccountSnapshot {
  id: string;
  products: ProductRec[];
  customers: CustomerRec[];
  subscriptions: Array<Omit<Subscription, "items"> & { items: Array<[string, number]> }>;
  /** Order of the generator's pick sets. */
  active: string[];
  suspended: string[];
  requests: RequestRec[];
  installation: Installation | null;
  seq: { product: number; generated: number; customer: number; asset: number; request: number };
}

export interface MarketplaceSnapshot {
  accounts: AccountSnapshot[];
}

export class AccountWorld {
  readonly num: string;
  readonly products: ProductRec[] = [];
  readonly productsByMpn = new Map<string, ProductRec>();
  readonly customers: CustomerRec[] = [];
  readonly customersById = new Map<string, CustomerRec>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly subscriptionsByCustomer = new Map<string, string[]>();
  readonly active = new IndexedSet();
  readonly suspended = new IndexedSet();
  readonly requests: RequestRec[] = [];
  readonly requestsById = new Map<string, RequestRec>();
  installation: Installation | null = null;
  private sortedRequests: RequestRec[] | null = null;
  private productSeq = 0;
  private generatedSeq = 0;
  private customerSeq = 0;
  private assetSeq = 0;
  private requestSeq = 0;

  constructor(
    readonly id: string,
    private readonly now: () => number,
  ) {
    this.num = accountNumber(id);
    PRODUCT_SEEDS.forEach((seed, i) => this.addProduct(seed, SEED_CREATED_MS + i * 60_000));
    CUSTOMER_SEEDS.forEach((c, i) => {
      this.addCustomer(
        {
          name: c.name,
          email: c.email,
          contact_name: c.contact_name,
          phone: c.phone,
          address: { line1: c.line1, city: c.city, postal_code: c.postal_code, country: c.country },
          tax_id: c.tax_id,
          currency: c.currency,
        },
        SEED_CREATED_MS + i * DAY_MS,
      );
    });
  }

  get name(): string {
    return this.id === MARKETPLACE_ACCOUNT.id ? MARKETPLACE_ACCOUNT.name : `Reseller ${this.id}`;
  }

  // ---- catalog ----

  addProduct(seed: ProductSeed, atMs = this.now()): ProductRec {
    if (this.productsByMpn.has(seed.mpn)) throw new OrderError(`a product with mpn ${seed.mpn} exists`);
    this.productSeq += 1;
    const ms = truncSeconds(atMs);
    const rec: ProductRec = {
      api: {
        id: `PRD-${this.num}-${pad(this.productSeq, 5)}`,
        mpn: seed.mpn,
        name: seed.name,
        description: seed.description,
        unit_price: seed.gbp,
        currency: CATALOG_CURRENCY,
        billing_period: seed.billing_period,
        type: seed.type,
        fee_kind: seed.fee_kind,
        updated: isoSeconds(ms),
      },
      eurPrice: seed.eur,
      family: seed.family,
      usage: seed.usage ?? false,
      updatedMs: ms,
    };
    this.products.push(rec);
    this.productsByMpn.set(seed.mpn, rec);
    return rec;
  }

  /** Adds `count` generated products (GEN-00001…); returns them. */
  generateProducts(count: number): ProductRec[] {
    const out: ProductRec[] = [];
    const at = this.now();
    for (let i = 0; i < count; i++) {
      this.generatedSeq += 1;
      out.push(this.addProduct(generatedProductSeed(this.generatedSeq), at));
    }
    return out;
  }

  updateProduct(mpn: string, patch: { name?: string; description?: string; unit_price?: string }): ProductRec {
    const rec = this.productsByMpn.get(mpn);
    if (!rec) throw new OrderError(`unknown mpn ${mpn}`);
    if (patch.name !== undefined) rec.api.name = patch.name;
    if (patch.description !== undefined) rec.api.description = patch.description;
    if (patch.unit_price !== undefined) {
      const ratio = Number(rec.eurPrice) / Math.max(Number(rec.api.unit_price), 0.0001);
      rec.api.unit_price = patch.unit_price;
      rec.eurPrice = (Number(patch.unit_price) * (Number.isFinite(ratio) && ratio > 0 ? ratio : 1.16)).toFixed(2);
    }
    rec.updatedMs = Math.max(truncSeconds(this.now()), rec.updatedMs + 1000);
    rec.api.updated = isoSeconds(rec.updatedMs);
    return rec;
  }

  cancellationFee(): ProductRec | undefined {
    return this.products.find((p) => p.api.type === "fee" && p.api.fee_kind === "cancellation");
  }

  priceFor(p: ProductRec, currency: string): string {
    return currency === "EUR" ? p.eurPrice : p.api.unit_price;
  }

  // ---- customers ----

  addCustomer(
    input: {
      name: string;
      email: string;
      contact_name?: string;
      phone?: string;
      address?: { line1: string; city: string; postal_code: string; country: string };
      tax_id?: string;
      currency: string;
    },
    atMs = this.now(),
  ): CustomerRec {
    this.customerSeq += 1;
    const ms = truncSeconds(atMs);
    const rec: CustomerRec = {
      api: {
        id: `TA-${this.num}-${pad(this.customerSeq, 4)}`,
        name: input.name,
        external_id: `${this.num}${pad(this.customerSeq, 3)}`,
        contact_info: {
          email: input.email,
          contact_name: input.contact_name ?? "",
          phone: input.phone ?? "",
          address: input.address ?? { line1: "", city: "", postal_code: "", country: input.currency === "EUR" ? "IE" : "GB" },
          tax_id: input.tax_id ?? "",
        },
        currency: input.currency,
        created: isoSeconds(ms),
        updated: isoSeconds(ms),
      },
      updatedMs: ms,
      announced: false,
    };
    this.customers.push(rec);
    this.customersById.set(rec.api.id, rec);
    return rec;
  }

  /**
   * Changes a customer (moves its `updated`). With `requests`, its requests' customer snapshot
   * (`asset.tiers.customer`) is corrected too and their `updated` moves (a marketplace fixing a record
   * everywhere it shows); returns the requests changed.
   */
  updateCustomer(id: string, patch: { name?: string; email?: string }, opts: { requests?: boolean } = {}): { customer: CustomerRec; requests: RequestRec[] } {
    const rec = this.customersById.get(id);
    if (!rec) throw new OrderError(`unknown customer ${id}`);
    if (patch.name !== undefined) rec.api.name = patch.name;
    if (patch.email !== undefined) rec.api.contact_info.email = patch.email;
    rec.updatedMs = Math.max(truncSeconds(this.now()), rec.updatedMs + 1000);
    rec.api.updated = isoSeconds(rec.updatedMs);
    const changed: RequestRec[] = [];
    if (opts.requests) {
      for (const r of this.requests) {
        if (r.customerId !== id) continue;
        r.api.asset.tiers.customer.name = rec.api.name;
        r.api.asset.tiers.customer.contact_info.email = rec.api.contact_info.email;
        r.updatedMs = Math.max(truncSeconds(this.now()), r.updatedMs + 1000);
        r.api.updated = isoSeconds(r.updatedMs);
        changed.push(r);
      }
      if (changed.length) this.sortedRequests = null;
    }
    return { customer: rec, requests: changed };
  }

  customersSorted(): CustomerRec[] {
    return this.customers.slice().sort((a, b) => a.updatedMs - b.updatedMs || cmp(a.api.id, b.api.id));
  }

  // ---- requests ----

  requestsSorted(): RequestRec[] {
    if (!this.sortedRequests) {
      this.sortedRequests = this.requests.slice().sort((a, b) => a.updatedMs - b.updatedMs || cmp(a.api.id, b.api.id));
    }
    return this.sortedRequests;
  }

  /** Moves `updated` of a request (a request may be updated after creation; its id never changes). */
  touchRequest(id: string): RequestRec {
    const rec = this.requestsById.get(id);
    if (!rec) throw new OrderError(`unknown request ${id}`);
    rec.updatedMs = Math.max(truncSeconds(this.now()), rec.updatedMs + 1000);
    rec.api.updated = isoSeconds(rec.updatedMs);
    this.sortedRequests = null;
    return rec;
  }

  private nextRequestId(): string {
    this.requestSeq += 1;
    return `PR-${this.num}-${pad(Math.floor(this.requestSeq / 10000), 4)}-${pad(this.requestSeq % 10000, 4)}`;
  }

  private newSubscription(customer: CustomerRec, first: ProductRec, atMs: number): Subscription {
    this.assetSeq += 1;
    const sub: Subscription = {
      id: `AS-${this.num}-${pad(this.assetSeq, 5)}`,
      externalId: `${this.num}${pad(this.assetSeq, 6)}`,
      customerId: customer.api.id,
      family: first.family,
      currency: customer.api.currency,
      billingPeriod: first.api.billing_period,
      status: "active",
      items: new Map(),
      createdMs: atMs,
      updatedMs: atMs,
      requestIds: [],
    };
    this.subscriptions.set(sub.id, sub);
    const list = this.subscriptionsByCustomer.get(customer.api.id) ?? [];
    list.push(sub.id);
    this.subscriptionsByCustomer.set(customer.api.id, list);
    return sub;
  }

  private setStatus(sub: Subscription, status: SubscriptionStatus): void {
    sub.status = status;
    this.active.delete(sub.id);
    this.suspended.delete(sub.id);
    if (status === "active") this.active.add(sub.id);
    if (status === "suspended") this.suspended.add(sub.id);
  }

  private customer(id: string | undefined): CustomerRec {
    if (!id) throw new OrderError("customer_id is required");
    const c = this.customersById.get(id);
    if (!c) throw new OrderError(`unknown customer ${id} in account ${this.id}`);
    return c;
  }

  private product(mpn: string, opts: { allowFee?: boolean } = {}): ProductRec {
    const p = this.productsByMpn.get(mpn);
    if (!p) throw new OrderError(`unknown mpn ${mpn} in the catalog of ${this.id}`);
    if (p.api.type === "fee" && !opts.allowFee) throw new OrderError(`${mpn} is a fee, not an orderable item`);
    return p;
  }

  /** The subscription an order acts on: subscription_id, else the customer's latest one (holding the first item's mpn). */
  private resolveSubscription(input: OrderInput, allowed: SubscriptionStatus[]): Subscription {
    if (input.subscription_id) {
      const sub = this.subscriptions.get(input.subscription_id);
      if (!sub) throw new OrderError(`unknown subscription ${input.subscription_id} in account ${this.id}`);
      if (input.customer_id && input.customer_id !== sub.customerId) {
        throw new OrderError(`subscription ${sub.id} belongs to customer ${sub.customerId}, not ${input.customer_id}`);
      }
      if (!allowed.includes(sub.status)) throw new OrderError(`subscription ${sub.id} is ${sub.status}; a ${input.type} needs ${allowed.join(" or ")}`);
      return sub;
    }
    const customer = this.customer(input.customer_id);
    const ids = (this.subscriptionsByCustomer.get(customer.api.id) ?? []).slice().reverse();
    const candidates = ids.map((id) => this.subscriptions.get(id)).filter((s): s is Subscription => !!s && allowed.includes(s.status));
    const mpn = input.items?.[0]?.mpn;
    const withMpn = mpn ? candidates.find((s) => (s.items.get(mpn) ?? 0) > 0) : undefined;
    const sub = withMpn ?? candidates[0];
    if (!sub) throw new OrderError(`customer ${customer.api.id} has no ${allowed.join(" or ")} subscription${mpn ? ` with ${mpn}` : ""}; pass subscription_id`);
    return sub;
  }

  private item(p: ProductRec, currency: string, quantity: string, oldQuantity: string): ApiItem {
    return { id: p.api.id, mpn: p.api.mpn, quantity, old_quantity: oldQuantity, unit_price: this.priceFor(p, currency), name: p.api.name };
  }

  private record(type: RequestType, sub: { id: string; externalId: string; family: ProductFamily; currency: string; billingPeriod: BillingPeriod }, customer: CustomerRec, items: ApiItem[], atMs: number, opts: { malformed?: boolean; subscription?: Subscription } = {}): RequestRec {
    const ms = truncSeconds(atMs);
    const api: ApiRequest = {
      id: this.nextRequestId(),
      type,
      status: "approved",
      created: isoSeconds(ms),
      updated: isoSeconds(ms),
      currency: sub.currency,
      billing_period: sub.billingPeriod,
      asset: {
        id: sub.id,
        external_id: sub.externalId,
        product: { id: sub.family.id, name: sub.family.name },
        items,
        tiers: {
          customer: {
            id: customer.api.id,
            name: customer.api.name,
            contact_info: { email: customer.api.contact_info.email },
            currency: customer.api.currency,
          },
        },
      },
      marketplace: { id: MARKETPLACE_ID },
      account_id: this.id,
    };
    const rec: RequestRec = { api, createdMs: ms, updatedMs: ms, customerId: customer.api.id, subscriptionId: opts.subscription?.id ?? null, malformed: opts.malformed ?? false };
    this.requests.push(rec);
    this.requestsById.set(api.id, rec);
    this.sortedRequests = null;
    opts.subscription?.requestIds.push(api.id);
    return rec;
  }

  /** Places one order (fulfillment request) and updates the subscription it acts on. Throws OrderError. */
  placeOrder(input: OrderInput): RequestRec {
    const atMs = truncSeconds(input.atMs ?? this.now());
    const items = input.items ?? [];
    for (const it of items) {
      if (!Number.isFinite(it.quantity) || it.quantity < 0) throw new OrderError(`quantity of ${it.mpn} must be a number ≥ 0`);
    }
    switch (input.type) {
      case "purchase": {
        const customer = this.customer(input.customer_id);
        if (items.length === 0) throw new OrderError("a purchase needs at least one item");
        const products = items.map((it) => this.product(it.mpn));
        for (const it of items) {
          if (!Number.isInteger(it.quantity) || it.quantity < 1) throw new OrderError(`quantity of ${it.mpn} must be a whole number ≥ 1`);
        }
        if (new Set(items.map((i) => i.mpn)).size !== items.length) throw new OrderError("each mpn may appear once per order");
        const first = products[0] as ProductRec;
        const sub = this.newSubscription(customer, first, atMs);
        const apiItems = items.map((it, i) => {
          sub.items.set(it.mpn, it.quantity);
          return this.item(products[i] as ProductRec, sub.currency, quantityString(it.quantity), "0");
        });
        this.setStatus(sub, "active");
        return this.record("purchase", sub, customer, apiItems, atMs, { subscription: sub });
      }
      case "change": {
        const sub = this.resolveSubscription(input, ["active"]);
        const customer = this.customer(sub.customerId);
        if (items.length === 0) throw new OrderError("a change needs at least one item with its new quantity");
        const next = new Map(sub.items);
        for (const it of items) {
          this.product(it.mpn);
          if (!Number.isInteger(it.quantity)) throw new OrderError(`quantity of ${it.mpn} must be a whole number`);
          if (it.quantity === 0) next.delete(it.mpn);
          else next.set(it.mpn, it.quantity);
        }
        if (next.size === 0) throw new OrderError("a change cannot remove every item; place a cancel instead");
        const mpns = [...new Set([...sub.items.keys(), ...next.keys()])];
        if (mpns.every((m) => (sub.items.get(m) ?? 0) === (next.get(m) ?? 0))) throw new OrderError("the change does not change any quantity");
        const apiItems = mpns.map((m) => this.item(this.product(m), sub.currency, quantityString(next.get(m) ?? 0), quantityString(sub.items.get(m) ?? 0)));
        sub.items = next;
        sub.updatedMs = atMs;
        return this.record("change", sub, customer, apiItems, atMs, { subscription: sub });
      }
      case "suspend":
      case "resume": {
        const sub = this.resolveSubscription(input, [input.type === "suspend" ? "active" : "suspended"]);
        const customer = this.customer(sub.customerId);
        const apiItems = [...sub.items].map(([m, q]) => this.item(this.product(m), sub.currency, quantityString(q), quantityString(q)));
        this.setStatus(sub, input.type === "suspend" ? "suspended" : "active");
        sub.updatedMs = atMs;
        return this.record(input.type, sub, customer, apiItems, atMs, { subscription: sub });
      }
      case "cancel": {
        const sub = this.resolveSubscription(input, ["active", "suspended"]);
        const customer = this.customer(sub.customerId);
        const apiItems = [...sub.items].map(([m, q]) => this.item(this.product(m), sub.currency, "0", quantityString(q)));
        const fee = input.cancellation_fee === false ? undefined : this.cancellationFee();
        if (fee) apiItems.push(this.item(fee, sub.currency, "1", "0"));
        sub.items = new Map();
        this.setStatus(sub, "terminated");
        sub.updatedMs = atMs;
        return this.record("cancel", sub, customer, apiItems, atMs, { subscription: sub });
      }
      case "billing": {
        const sub = this.resolveSubscription(input, ["active", "suspended"]);
        const customer = this.customer(sub.customerId);
        if (items.length === 0) throw new OrderError("a billing request needs at least one usage item");
        const apiItems = items.map((it) => this.item(this.product(it.mpn), sub.currency, quantityString(it.quantity), "0"));
        return this.record("billing", sub, customer, apiItems, atMs, { subscription: sub });
      }
    }
  }

  /**
   * A purchase whose item quantity is not a number (e.g. "ten"): what a broken marketplace
   * integration might send. The subscription is not tracked.
   */
  placeMalformed(input: { customer_id?: string; mpn?: string; quantity: string; atMs?: number }): RequestRec {
    const customer = this.customer(input.customer_id ?? this.customers[0]?.api.id);
    const p = this.product(input.mpn ?? "M365-BASIC-M");
    const atMs = truncSeconds(input.atMs ?? this.now());
    this.assetSeq += 1;
    const pseudo = {
      id: `AS-${this.num}-${pad(this.assetSeq, 5)}`,
      externalId: `${this.num}${pad(this.assetSeq, 6)}`,
      family: p.family,
      currency: customer.api.currency,
      billingPeriod: p.api.billing_period,
    };
    return this.record("purchase", pseudo, customer, [this.item(p, customer.api.currency, input.quantity, "0")], atMs, { malformed: true });
  }

  /** Random pick among active (or suspended) subscriptions, for the generator. */
  pickSubscription(which: "active" | "suspended", rnd: () => number): Subscription | undefined {
    const set = which === "active" ? this.active : this.suspended;
    if (set.size === 0) return undefined;
    const id = set.at(Math.floor(rnd() * set.size));
    return id ? this.subscriptions.get(id) : undefined;
  }

  /** Everything this account holds, as plain JSON (persistence). */
  snapshot(): AccountSnapshot {
    return {
      id: this.id,
      products: this.products,
      customers: this.customers,
      subscriptions: [...this.subscriptions.values()].map((sub) => ({ ...sub, items: [...sub.items] })),
      active: this.active.values(),
      suspended: this.suspended.values(),
      requests: this.requests,
      installation: this.installation,
      seq: { product: this.productSeq, generated: this.generatedSeq, customer: this.customerSeq, asset: this.assetSeq, request: this.requestSeq },
    };
  }

  /** Replaces this (freshly seeded) account's content with a snapshot and rebuilds the indexes. */
  restore(s: AccountSnapshot): void {
    this.products.length = 0;
    this.productsByMpn.clear();
    for (const p of s.products) {
      this.products.push(p);
      this.productsByMpn.set(p.api.mpn, p);
    }
    this.customers.length = 0;
    this.customersById.clear();
    for (const c of s.customers) {
      this.customers.push(c);
      this.customersById.set(c.api.id, c);
    }
    this.subscriptions.clear();
    this.subscriptionsByCustomer.clear();
    for (const snap of s.subscriptions) {
      const sub: Subscription = { ...snap, items: new Map(snap.items) };
      this.subscriptions.set(sub.id, sub);
      const list = this.subscriptionsByCustomer.get(sub.customerId) ?? [];
      list.push(sub.id);
      this.subscriptionsByCustomer.set(sub.customerId, list);
    }
    for (const id of s.active) this.active.add(id);
    for (const id of s.suspended) this.suspended.add(id);
    this.requests.length = 0;
    this.requestsById.clear();
    for (const r of s.requests) {
      this.requests.push(r);
      this.requestsById.set(r.api.id, r);
    }
    this.sortedRequests = null;
    this.installation = s.installation;
    this.productSeq = s.seq.product;
    this.generatedSeq = s.seq.generated;
    this.customerSeq = s.seq.customer;
    this.assetSeq = s.seq.asset;
    this.requestSeq = s.seq.request;
  }

  renderSubscription(sub: Subscription): Record<string, unknown> {
    const customer = this.customersById.get(sub.customerId);
    return {
      id: sub.id,
      external_id: sub.externalId,
      customer_id: sub.customerId,
      customer_name: customer?.api.name ?? null,
      product: { id: sub.family.id, name: sub.family.name },
      status: sub.status,
      currency: sub.currency,
      billing_period: sub.billingPeriod,
      items: [...sub.items].map(([mpn, quantity]) => ({ mpn, quantity: quantityString(quantity) })),
      created: isoSeconds(sub.createdMs),
      updated: isoSeconds(sub.updatedMs),
      request_ids: sub.requestIds,
    };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class MarketplaceWorld {
  readonly accounts = new Map<string, AccountWorld>();

  constructor(private readonly now: () => number) {}

  static validAccountId(id: string | undefined): id is string {
    return typeof id === "string" && ACCOUNT_ID_PATTERN.test(id);
  }

  /** The account's world, seeded on first use. */
  account(id: string): AccountWorld {
    let w = this.accounts.get(id);
    if (!w) {
      if (!ACCOUNT_ID_PATTERN.test(id)) throw new OrderError(`invalid account_id ${JSON.stringify(id)}`);
      w = new AccountWorld(id, this.now);
      this.accounts.set(id, w);
    }
    return w;
  }

  snapshot(): MarketplaceSnapshot {
    return { accounts: [...this.accounts.values()].map((w) => w.snapshot()) };
  }

  /** Loads a snapshot into this (empty) world. */
  restore(s: MarketplaceSnapshot): void {
    this.accounts.clear();
    for (const a of s.accounts) {
      const w = new AccountWorld(a.id, this.now);
      w.restore(a);
      this.accounts.set(a.id, w);
    }
  }

  /** Installs (or re-registers) the plugin for an account: same id and secret, URL updated. */
  register(accountId: string, productId: string, webhookUrl: string): { installation: Installation; created: boolean } {
    const w = this.account(accountId);
    const now = this.now();
    if (w.installation) {
      w.installation.webhookUrl = webhookUrl;
      w.installation.productId = productId;
      w.installation.disabled = false;
      w.installation.uninstalledMs = null;
      w.installation.updatedMs = now;
      return { installation: w.installation, created: false };
    }
    w.installation = {
      id: `EIN-${w.num}-${randomBytes(3).toString("hex").toUpperCase()}`,
      accountId,
      productId,
      webhookUrl,
      secrets: [newWebhookSecret()],
      createdMs: truncSeconds(now),
      updatedMs: now,
      disabled: false,
      uninstalledMs: null,
    };
    return { installation: w.installation, created: true };
  }

  /** The reseller uninstalls the plugin in the store: the installation stays (same id and secret if installed again), marked uninstalled. */
  uninstall(accountId: string): Installation | null {
    const inst = this.account(accountId).installation;
    if (!inst || inst.uninstalledMs) return null;
    inst.uninstalledMs = this.now();
    inst.updatedMs = inst.uninstalledMs;
    return inst;
  }
}
