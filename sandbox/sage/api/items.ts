// /products and /services: list, get, create, update (PUT), delete (204).
import { isRecord, json, noContent, type Reply } from "../../http";
import type { RequestContext } from "../../router";
import { randomId } from "../ids";
import type { BusinessData, ItemRec, PriceData, Store } from "../data";
import { FieldErrors, bool, has, invalid, listReply, nonEmpty, notFound, num, ref, str, ts, wrapped, type Ref } from "./common";
import { ledgerRef, taxRateRef } from "./reference";
import type { ApiContext, Operation } from "./types";

type Kind = "product" | "service";

interface KindInfo {
  kind: Kind;
  wrapper: string;
  path: string;
  pricesField: "sales_prices" | "sales_rates";
  nameField: "price_name" | "rate_name";
  amountField: "price" | "rate";
  includesTaxField: "price_includes_tax" | "rate_includes_tax";
  purchaseLedgerRequired: boolean;
}

const PRODUCT: KindInfo = {
  kind: "product",
  wrapper: "product",
  path: "/products",
  pricesField: "sales_prices",
  nameField: "price_name",
  amountField: "price",
  includesTaxField: "price_includes_tax",
  purchaseLedgerRequired: true,
};
const SERVICE: KindInfo = {
  kind: "service",
  wrapper: "service",
  path: "/services",
  pricesField: "sales_rates",
  nameField: "rate_name",
  amountField: "rate",
  includesTaxField: "rate_includes_tax",
  purchaseLedgerRequired: false,
};

function storeOf(data: BusinessData, k: KindInfo): Store<ItemRec> {
  return k.kind === "product" ? data.products : data.services;
}

export function itemRef(i: ItemRec): Ref {
  return ref(i.id, i.description, `/${i.kind}s/${i.id}`);
}

export function itemIsUsed(data: BusinessData, id: string): boolean {
  return [...data.salesInvoices.live(), ...data.salesCreditNotes.live()].some((a) =>
    a.lines.some((l) => l.product_id === id || l.service_id === id),
  );
}

function renderItem(data: BusinessData, k: KindInfo, i: ItemRec): Record<string, unknown> {
  const ledger = (id: string | null) => {
    const l = id ? data.ledgerAccounts.get(id) : undefined;
    return l ? ledgerRef(l) : null;
  };
  const tax = (id: string | null) => {
    const t = id ? data.taxRates.get(id) : undefined;
    return t ? taxRateRef(t) : null;
  };
  const prices = i.prices.map((p, n) => ({
    id: `${i.id.slice(0, 28)}${String(n + 1).padStart(4, "0")}`,
    displayed_as: p.price_name,
    [k.nameField]: p.price_name,
    [k.amountField]: p.price,
    [k.includesTaxField]: p.price_includes_tax,
  }));
  return {
    ...itemRef(i),
    created_at: ts(i.createdMs),
    updated_at: ts(i.updatedMs),
    deleted_at: ts(i.deletedMs),
    deletable: !itemIsUsed(data, i.id),
    deactivatable: true,
    used_on_recurring_invoice: false,
    item_code: i.item_code,
    description: i.description,
    notes: i.notes,
    sales_ledger_account: ledger(i.sales_ledger_account_id),
    sales_tax_rate: tax(i.sales_tax_rate_id),
    purchase_ledger_account: ledger(i.purchase_ledger_account_id),
    usual_supplier: null,
    purchase_tax_rate: tax(i.purchase_tax_rate_id),
    cost_price: i.cost_price,
    [k.pricesField]: prices,
    source_guid: i.source_guid,
    purchase_description: null,
    active: i.active,
    ...(k.kind === "product"
      ? { catalog_item_type: ref("NON_STOCK_ITEM", "Non-Stock", "/catalog_item_types/NON_STOCK_ITEM") }
      : { oss_service: false }),
  };
}

function applyItem(
  data: BusinessData,
  k: KindInfo,
  body: Record<string, unknown>,
  existing: ItemRec | undefined,
): { ok: true; rec: ItemRec } | { ok: false; reply: Reply } {
  const e = new FieldErrors();
  const creating = existing === undefined;

  let description = existing?.description ?? "";
  if (creating || has(body, "description")) {
    const d = nonEmpty(body.description);
    if (!d) e.add("description", "can't be blank");
    else description = d;
  }

  const ledger = (field: string, area: "sales" | "expenses", required: boolean, current: string | null): string | null => {
    if (!has(body, field) || body[field] === null) {
      if (creating && required) e.add(field, "can't be blank");
      return current;
    }
    const id = str(body[field]);
    const l = id ? data.ledgerAccounts.get(id) : undefined;
    if (!l) e.add(field, "Couldn't find ledger account.");
    else if (!l.visible_in.includes(area)) e.add(field, `is not a ledger account visible in ${area}`);
    return id;
  };
  const salesLedger = ledger("sales_ledger_account_id", "sales", true, existing?.sales_ledger_account_id ?? null);
  const purchaseLedger = ledger(
    "purchase_ledger_account_id",
    "expenses",
    k.purchaseLedgerRequired,
    existing?.purchase_ledger_account_id ?? null,
  );

  const tax = (field: string, usage: "sales" | "purchase", current: string | null): string | null => {
    if (!has(body, field) || body[field] === null) return current;
    const id = str(body[field]);
    const t = id ? data.taxRates.get(id) : undefined;
    if (!t) e.add(field, "Couldn't find tax rate.");
    else if (!t.usage.includes(usage)) e.add(field, `is not a tax rate for ${usage === "sales" ? "sales" : "purchases"}`);
    return id;
  };
  const salesTax = tax("sales_tax_rate_id", "sales", existing?.sales_tax_rate_id ?? null);
  const purchaseTax = tax("purchase_tax_rate_id", "purchase", existing?.purchase_tax_rate_id ?? null);

  if (has(body, "usual_supplier_id") && body.usual_supplier_id !== null) {
    const c = data.contacts.get(str(body.usual_supplier_id) ?? "");
    if (!c || !c.contact_type_ids.includes("VENDOR")) e.add("usual_supplier_id", "Couldn't find Supplier.");
  }

  let prices: PriceData[] = existing?.prices ?? [];
  if (has(body, k.pricesField)) {
    const v = body[k.pricesField];
    if (!Array.isArray(v)) e.add(k.pricesField, "must be an array");
    else {
      prices = [];
      v.forEach((p) => {
        if (!isRecord(p)) return e.add(k.pricesField, "must contain objects");
        const amount = num(p[k.amountField]);
        if (amount === null) return e.add(`${k.pricesField}.${k.amountField}`, "can't be blank");
        prices.push({
          price_name: str(p[k.nameField]) ?? (prices.length === 0 ? "Selling Price" : `Price ${prices.length + 1}`),
          price: amount,
          price_includes_tax: bool(p[k.includesTaxField]) ?? false,
        });
      });
    }
  }
  if (e.any) return { ok: false, reply: e.reply() };

  const pick = <T>(field: string, parse: (v: unknown) => T, current: T): T => (has(body, field) ? parse(body[field]) : current);
  const now = data.stamp(existing?.updatedMs);
  return {
    ok: true,
    rec: {
      id: existing?.id ?? randomId(),
      createdMs: existing?.createdMs ?? now,
      updatedMs: now,
      deletedMs: null,
      kind: k.kind,
      item_code: pick("item_code", str, existing?.item_code ?? null),
      description,
      notes: pick("notes", str, existing?.notes ?? null),
      sales_ledger_account_id: salesLedger ?? "",
      purchase_ledger_account_id: purchaseLedger,
      sales_tax_rate_id: salesTax,
      purchase_tax_rate_id: purchaseTax,
      cost_price: pick("cost_price", num, existing?.cost_price ?? null),
      source_guid: pick("source_guid", str, existing?.source_guid ?? null),
      active: pick("active", (v) => bool(v) ?? true, existing?.active ?? true),
      prices,
    },
  };
}

function operations(k: KindInfo): Operation[] {
  const name = `sage.${k.kind}s`;
  const list = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const q = ctx.query;
    const search = q.search?.toLowerCase();
    const store = storeOf(data, k);
    if (q.active !== undefined && q.active !== "true" && q.active !== "false") {
      return invalid("active", "must be true or false", 400);
    }
    return listReply({
      ctx,
      data,
      live: store.live(),
      deleted: store.deleted(),
      resourcePath: k.path,
      render: (i) => renderItem(data, k, i),
      filter: (i) =>
        (!search || i.description.toLowerCase().includes(search) || (i.item_code ?? "").toLowerCase().includes(search)) &&
        (q.active === undefined || String(i.active) === q.active),
    });
  };
  const get = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const i = storeOf(data, k).get(ctx.params.key ?? "");
    return i ? json(200, renderItem(data, k, i)) : notFound();
  };
  const create = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const b = wrapped(ctx, k.wrapper);
    if (!b.ok) return b.reply;
    const r = applyItem(data, k, b.body, undefined);
    if (!r.ok) return r.reply;
    storeOf(data, k).insert(r.rec);
    return json(201, renderItem(data, k, r.rec));
  };
  const update = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const existing = storeOf(data, k).get(ctx.params.key ?? "");
    if (!existing) return notFound();
    const b = wrapped(ctx, k.wrapper);
    if (!b.ok) return b.reply;
    const r = applyItem(data, k, b.body, existing);
    if (!r.ok) return r.reply;
    Object.assign(existing, r.rec);
    return json(200, renderItem(data, k, existing));
  };
  const remove = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const i = storeOf(data, k).get(ctx.params.key ?? "");
    if (!i) return notFound();
    if (itemIsUsed(data, i.id)) return invalid("base", `This ${k.kind} cannot be deleted because it is used on transactions.`);
    data.softDelete(i);
    return noContent();
  };
  return [
    { method: "GET", path: k.path, name: `${name}.list`, handler: list },
    { method: "POST", path: k.path, name: `${name}.create`, handler: create, idempotentWrapper: k.wrapper },
    { method: "GET", path: `${k.path}/:key`, name: `${name}.get`, handler: get },
    { method: "PUT", path: `${k.path}/:key`, name: `${name}.update`, handler: update },
    { method: "DELETE", path: `${k.path}/:key`, name: `${name}.delete`, handler: remove },
  ];
}

export const itemOperations: Operation[] = [...operations(PRODUCT), ...operations(SERVICE)];
