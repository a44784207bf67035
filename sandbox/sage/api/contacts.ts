// /contacts: list, get, create, update (PUT), delete (204, real deletion; reported by deleted_since).
import { json, noContent, type Reply } from "../../http";
import type { RequestContext } from "../../router";
import { randomId } from "../ids";
import type { AddressData, BusinessData, ContactPersonData, ContactRec } from "../data";
import { CONTACT_TYPES, CURRENCIES } from "../reference-data";
import {
  FieldErrors,
  has,
  invalid,
  listReply,
  nonEmpty,
  notFound,
  num,
  ref,
  str,
  ts,
  wrapped,
  type Ref,
} from "./common";
import { contactTypeRef, currencyRef, ledgerRef, taxRateRef } from "./reference";
import type { ApiContext, Operation } from "./types";
import { isRecord } from "../../http";

export function contactRef(c: ContactRec): Ref {
  return ref(c.id, `${c.name} (${c.reference})`, `/contacts/${c.id}`);
}

function renderAddress(a: AddressData | null): Record<string, unknown> | null {
  if (!a) return null;
  const parts = [a.address_line_1, a.address_line_2, a.city, a.region, a.postal_code].filter((p): p is string => !!p);
  return {
    displayed_as: parts.join("\n"),
    address_line_1: a.address_line_1,
    address_line_2: a.address_line_2,
    city: a.city,
    postal_code: a.postal_code,
    region: a.region,
    country: a.country_id ? ref(a.country_id, a.country_id, `/countries/${a.country_id}`) : null,
  };
}

function renderPerson(p: ContactPersonData | null): Record<string, unknown> | null {
  if (!p) return null;
  return {
    displayed_as: p.name ?? p.email ?? "",
    name: p.name,
    job_title: p.job_title,
    telephone: p.telephone,
    mobile: p.mobile,
    email: p.email,
    is_main_contact: true,
    is_preferred_contact: false,
  };
}

export function contactIsUsed(data: BusinessData, id: string): boolean {
  return [...data.salesInvoices.live(), ...data.salesCreditNotes.live()].some((a) => a.contact_id === id);
}

function balanceOf(data: BusinessData, id: string): number {
  let b = 0;
  for (const a of data.salesInvoices.live()) if (a.contact_id === id && a.status !== "VOID" && a.status !== "DRAFT") b += a.total_amount - a.allocated_amount;
  for (const a of data.salesCreditNotes.live()) if (a.contact_id === id && a.status !== "VOID" && a.status !== "DRAFT") b -= a.total_amount - a.allocated_amount;
  return Math.round(b * 100) / 100;
}

export function renderContact(data: BusinessData, c: ContactRec): Record<string, unknown> {
  const ledger = (id: string | null) => {
    const l = id ? data.ledgerAccounts.get(id) : undefined;
    return l ? ledgerRef(l) : null;
  };
  const tax = c.default_sales_tax_rate_id ? data.taxRates.get(c.default_sales_tax_rate_id) : undefined;
  return {
    ...contactRef(c),
    created_at: ts(c.createdMs),
    updated_at: ts(c.updatedMs),
    links: [],
    deleted_at: ts(c.deletedMs),
    balance: balanceOf(data, c.id),
    contact_types: c.contact_type_ids.map(contactTypeRef),
    name: c.name,
    reference: c.reference,
    default_sales_ledger_account: ledger(c.default_sales_ledger_account_id),
    default_sales_tax_rate: tax ? taxRateRef(tax) : null,
    default_purchase_ledger_account: ledger(c.default_purchase_ledger_account_id),
    tax_number: c.tax_number,
    notes: c.notes,
    locale: c.locale,
    main_address: renderAddress(c.main_address),
    delivery_address: renderAddress(c.delivery_address),
    main_contact_person: renderPerson(c.main_contact_person),
    bank_account_details: null,
    credit_limit: c.credit_limit,
    credit_days: c.credit_days,
    credit_terms: c.credit_terms,
    credit_terms_and_conditions: null,
    product_sales_price_type: null,
    source_guid: c.source_guid,
    currency: currencyRef(c.currency_id),
    aux_reference: c.aux_reference,
    registered_number: null,
    deletable: !contactIsUsed(data, c.id),
    tax_treatment: null,
    email: c.main_contact_person?.email ?? null,
    system: false,
    has_unfinished_recurring_invoices: false,
    is_active: true,
    gb_based: c.main_address?.country_id === "GB",
    ni_based: false,
  };
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function parseAddress(v: unknown): AddressData | null {
  if (!isRecord(v)) return null;
  return {
    address_line_1: str(v.address_line_1),
    address_line_2: str(v.address_line_2),
    city: str(v.city),
    postal_code: str(v.postal_code),
    region: str(v.region),
    country_id: str(v.country_id),
  };
}

function parsePerson(v: unknown, errors: FieldErrors): ContactPersonData | null {
  if (!isRecord(v)) return null;
  const email = str(v.email);
  if (email !== null && email !== "" && !EMAIL_RE.test(email)) errors.add("main_contact_person.email", "is invalid");
  return {
    name: str(v.name),
    email: email === "" ? null : email,
    telephone: str(v.telephone),
    mobile: str(v.mobile),
    job_title: str(v.job_title),
  };
}

function generateReference(data: BusinessData, name: string): string {
  const stem = (name.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 6) || "CONTACT").padEnd(3, "X");
  const taken = new Set(data.contacts.live().map((c) => c.reference.toUpperCase()));
  for (let i = 1; ; i += 1) {
    const candidate = `${stem}${String(i).padStart(3, "0")}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Validates and applies contact fields (create when `existing` is undefined). */
function applyContact(
  data: BusinessData,
  body: Record<string, unknown>,
  existing: ContactRec | undefined,
): { ok: true; rec: ContactRec } | { ok: false; reply: Reply } {
  const e = new FieldErrors();
  const creating = existing === undefined;

  let name = existing?.name ?? "";
  if (creating || has(body, "name")) {
    const n = nonEmpty(body.name);
    if (!n) e.add("name", "can't be blank");
    else if (n.length > 100) e.add("name", "is too long (maximum is 100 characters)");
    else name = n;
  }

  let types = existing?.contact_type_ids ?? [];
  if (creating || has(body, "contact_type_ids")) {
    const v = body.contact_type_ids;
    if (!Array.isArray(v) || v.length === 0) e.add("contact_type_ids", "can't be blank");
    else if (!v.every((t) => typeof t === "string" && CONTACT_TYPES.some((c) => c.id === t))) {
      e.add("contact_type_ids", "must be CUSTOMER or VENDOR");
    } else types = [...new Set(v as string[])];
  }

  let reference = existing?.reference ?? "";
  if (has(body, "reference") && body.reference !== null) {
    const r = str(body.reference)?.trim() ?? "";
    if (r === "") {
      if (!creating) e.add("reference", "can't be blank");
    } else if (r.length > 50) e.add("reference", "is too long (maximum is 50 characters)");
    else {
      const clash = data.contacts.live().find((c) => c.reference.toUpperCase() === r.toUpperCase() && c.id !== existing?.id);
      if (clash) e.add("reference", "has already been taken");
      else reference = r;
    }
  }

  let currency = existing?.currency_id ?? data.currency;
  if (has(body, "currency_id") && body.currency_id !== null) {
    const c = str(body.currency_id);
    if (!c || !CURRENCIES.some((x) => x.id === c)) e.add("currency_id", "is not a valid currency");
    else if (c !== data.currency && c !== existing?.currency_id && !data.multiCurrencyEnabled) e.add("currency_id", `can't be ${c}: multi-currency is not enabled for this business (base currency ${data.currency})`);
    else currency = c;
  }

  const ledgerField = (field: string, area: "sales" | "expenses", current: string | null): string | null => {
    if (!has(body, field) || body[field] === null) return current;
    const id = str(body[field]);
    const l = id ? data.ledgerAccounts.get(id) : undefined;
    if (!l) e.add(field, "Couldn't find ledger account.");
    else if (!l.visible_in.includes(area)) e.add(field, `is not a ledger account visible in ${area}`);
    return id;
  };
  const defaultSales = ledgerField("default_sales_ledger_account_id", "sales", existing?.default_sales_ledger_account_id ?? null);
  const defaultPurchase = ledgerField(
    "default_purchase_ledger_account_id",
    "expenses",
    existing?.default_purchase_ledger_account_id ?? null,
  );

  let defaultTax = existing?.default_sales_tax_rate_id ?? null;
  if (has(body, "default_sales_tax_rate_id") && body.default_sales_tax_rate_id !== null) {
    const id = str(body.default_sales_tax_rate_id);
    const t = id ? data.taxRates.get(id) : undefined;
    if (!t) e.add("default_sales_tax_rate_id", "Couldn't find tax rate.");
    else if (!t.usage.includes("sales")) e.add("default_sales_tax_rate_id", "is not a tax rate for sales");
    else defaultTax = t.id;
  }

  const person = has(body, "main_contact_person") ? parsePerson(body.main_contact_person, e) : (existing?.main_contact_person ?? null);
  if (e.any) return { ok: false, reply: e.reply() };

  const pick = <T>(field: string, parse: (v: unknown) => T, current: T): T => (has(body, field) ? parse(body[field]) : current);
  const now = data.stamp(existing?.updatedMs);
  const rec: ContactRec = {
    id: existing?.id ?? randomId(),
    createdMs: existing?.createdMs ?? now,
    updatedMs: now,
    deletedMs: null,
    name,
    reference: reference || generateReference(data, name),
    contact_type_ids: types,
    main_address: pick("main_address", parseAddress, existing?.main_address ?? null),
    delivery_address: pick("delivery_address", parseAddress, existing?.delivery_address ?? null),
    main_contact_person: person,
    currency_id: currency,
    tax_number: pick("tax_number", str, existing?.tax_number ?? null),
    notes: pick("notes", str, existing?.notes ?? null),
    locale: pick("locale", str, existing?.locale ?? null),
    source_guid: pick("source_guid", str, existing?.source_guid ?? null),
    aux_reference: pick("aux_reference", str, existing?.aux_reference ?? null),
    default_sales_ledger_account_id: defaultSales,
    default_sales_tax_rate_id: defaultTax,
    default_purchase_ledger_account_id: defaultPurchase,
    credit_limit: pick("credit_limit", num, existing?.credit_limit ?? null),
    credit_days: pick("credit_days", num, existing?.credit_days ?? null),
    credit_terms: pick("credit_terms", str, existing?.credit_terms ?? null),
  };
  return { ok: true, rec };
}

function list(ctx: RequestContext, { data }: ApiContext): Reply {
  const q = ctx.query;
  const search = q.search?.toLowerCase();
  const email = q.email?.toLowerCase();
  return listReply({
    ctx,
    data,
    live: data.contacts.live(),
    deleted: data.contacts.deleted(),
    resourcePath: "/contacts",
    render: (c) => renderContact(data, c),
    filter: (c) =>
      (!search || c.name.toLowerCase().includes(search) || c.reference.toLowerCase().includes(search)) &&
      (!email || (c.main_contact_person?.email ?? "").toLowerCase() === email) &&
      (!q.contact_type_id || c.contact_type_ids.includes(q.contact_type_id)),
  });
}

function get(ctx: RequestContext, { data }: ApiContext): Reply {
  const c = data.contacts.get(ctx.params.key ?? "");
  return c ? json(200, renderContact(data, c)) : notFound();
}

function create(ctx: RequestContext, { data }: ApiContext): Reply {
  const b = wrapped(ctx, "contact");
  if (!b.ok) return b.reply;
  const r = applyContact(data, b.body, undefined);
  if (!r.ok) return r.reply;
  data.contacts.insert(r.rec);
  return json(201, renderContact(data, r.rec));
}

function update(ctx: RequestContext, { data }: ApiContext): Reply {
  const existing = data.contacts.get(ctx.params.key ?? "");
  if (!existing) return notFound();
  const b = wrapped(ctx, "contact");
  if (!b.ok) return b.reply;
  const r = applyContact(data, b.body, existing);
  if (!r.ok) return r.reply;
  Object.assign(existing, r.rec);
  return json(200, renderContact(data, existing));
}

function remove(ctx: RequestContext, { data }: ApiContext): Reply {
  const c = data.contacts.get(ctx.params.key ?? "");
  if (!c) return notFound();
  if (contactIsUsed(data, c.id)) {
    return invalid("base", "This contact cannot be deleted because it has transactions.");
  }
  data.softDelete(c);
  return noContent();
}

export const contactOperations: Operation[] = [
  { method: "GET", path: "/contacts", name: "sage.contacts.list", handler: list },
  { method: "POST", path: "/contacts", name: "sage.contacts.create", handler: create, idempotentWrapper: "contact" },
  { method: "GET", path: "/contacts/:key", name: "sage.contacts.get", handler: get },
  { method: "PUT", path: "/contacts/:key", name: "sage.contacts.update", handler: update },
  { method: "DELETE", path: "/contacts/:key", name: "sage.contacts.delete", handler: remove },
];
