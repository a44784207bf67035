// /sales_invoices and /sales_credit_notes: list, get, create, update (PUT), void (DELETE), release.
import { isRecord, json, type Reply } from "../../http";
import type { RequestContext } from "../../router";
import { randomId } from "../ids";
import type { ArtefactKind, ArtefactRec, BusinessData, LineRec } from "../data";
import { round2 } from "../data";
import { ARTEFACT_STATUSES, CURRENCIES } from "../reference-data";
import {
  FieldErrors,
  addDays,
  bool,
  has,
  invalid,
  invalidParam,
  isValidDate,
  listReply,
  nonEmpty,
  notFound,
  num,
  parseSince,
  parseSort,
  ref,
  str,
  ts,
  wrapped,
  type Ref,
} from "./common";
import { contactRef } from "./contacts";
import { itemRef } from "./items";
import { currencyRef, ledgerRef, statusRef, taxRateRef } from "./reference";
import type { ApiContext, Operation } from "./types";

export interface ArtefactKindInfo {
  kind: ArtefactKind;
  wrapper: string;
  path: string;
  linesField: "invoice_lines" | "credit_note_lines";
  numberField: "invoice_number" | "credit_note_number";
  prefixField: "invoice_number_prefix" | "credit_note_number_prefix";
  prefix: string;
  transactionType: Ref;
  noun: string;
}

export const INVOICE: ArtefactKindInfo = {
  kind: "sales_invoice",
  wrapper: "sales_invoice",
  path: "/sales_invoices",
  linesField: "invoice_lines",
  numberField: "invoice_number",
  prefixField: "invoice_number_prefix",
  prefix: "SI-",
  transactionType: ref("SALES_INVOICE", "Sales Invoice", "/transaction_types/SALES_INVOICE"),
  noun: "invoice",
};

export const CREDIT_NOTE: ArtefactKindInfo = {
  kind: "sales_credit_note",
  wrapper: "sales_credit_note",
  path: "/sales_credit_notes",
  linesField: "credit_note_lines",
  numberField: "credit_note_number",
  prefixField: "credit_note_number_prefix",
  prefix: "SCN-",
  transactionType: ref("SALES_CREDIT_NOTE", "Sales Credit Note", "/transaction_types/SALES_CREDIT_NOTE"),
  noun: "credit note",
};

export function kindInfo(kind: ArtefactKind): ArtefactKindInfo {
  return kind === "sales_invoice" ? INVOICE : CREDIT_NOTE;
}

/** Totals must agree to the penny (a cent of slack for rounding). */
const TOLERANCE = 0.0101;
const close = (a: number, b: number): boolean => Math.abs(a - b) <= TOLERANCE;

export function artefactRef(a: ArtefactRec): Ref {
  return ref(a.id, a.number, `${kindInfo(a.kind).path}/${a.id}`);
}

export function outstanding(a: ArtefactRec): number {
  if (a.status === "VOID") return 0;
  return round2(a.total_amount - a.allocated_amount);
}

function renderLine(data: BusinessData, l: LineRec): Record<string, unknown> {
  const ledger = data.ledgerAccounts.get(l.ledger_account_id);
  const tax = l.tax_rate_id ? data.taxRates.get(l.tax_rate_id) : undefined;
  const product = l.product_id ? data.products.get(l.product_id) : undefined;
  const service = l.service_id ? data.services.get(l.service_id) : undefined;
  return {
    id: l.id,
    displayed_as: l.description,
    description: l.description,
    product: product ? itemRef(product) : null,
    service: service ? itemRef(service) : null,
    ledger_account: ledger ? ledgerRef(ledger) : null,
    trade_of_asset: false,
    quantity: l.quantity,
    unit_price: l.unit_price,
    net_amount: l.net_amount,
    tax_rate: tax ? taxRateRef(tax) : null,
    tax_amount: l.tax_amount,
    tax_breakdown: [],
    total_amount: l.total_amount,
    base_currency_unit_price: l.unit_price,
    unit_price_includes_tax: l.unit_price_includes_tax,
    base_currency_net_amount: l.net_amount,
    base_currency_tax_amount: l.tax_amount,
    base_currency_tax_breakdown: [],
    base_currency_total_amount: l.total_amount,
    eu_goods_services_type: null,
    discount_amount: l.discount_amount,
    base_currency_discount_amount: l.discount_amount,
    discount_percentage: l.discount_percentage,
    eu_sales_description: null,
  };
}

function taxAnalysis(data: BusinessData, a: ArtefactRec): Array<Record<string, unknown>> {
  const groups = new Map<string, { net: number; tax: number }>();
  for (const l of a.lines) {
    const key = l.tax_rate_id ?? "";
    const g = groups.get(key) ?? { net: 0, tax: 0 };
    g.net += l.net_amount;
    g.tax += l.tax_amount;
    groups.set(key, g);
  }
  return [...groups.entries()].map(([id, g]) => {
    const t = id ? data.taxRates.get(id) : undefined;
    return {
      tax_rate: t ? taxRateRef(t) : null,
      net_amount: round2(g.net),
      tax_amount: round2(g.tax),
      total_amount: round2(g.net + g.tax),
      goods_amount: 0,
      service_amount: round2(g.net),
    };
  });
}

export function renderArtefact(data: BusinessData, a: ArtefactRec): Record<string, unknown> {
  const k = kindInfo(a.kind);
  const contact = data.contacts.get(a.contact_id);
  const out = outstanding(a);
  const fx = a.exchange_rate || 1;
  const base = (n: number) => round2(n / fx);
  const quantity = a.lines.reduce((s, l) => s + l.quantity, 0);
  const discount = round2(a.lines.reduce((s, l) => s + l.discount_amount, 0));
  const rendered: Record<string, unknown> = {
    ...artefactRef(a),
    created_at: ts(a.createdMs),
    updated_at: ts(a.updatedMs),
    links: [],
    editable: a.status === "DRAFT" || (a.status === "UNPAID" && a.allocated_amount === 0),
    vat_reverse_charge: false,
    transaction: a.status === "DRAFT" ? null : ref(a.id, a.number, `/transactions/${a.id}`),
    transaction_type: k.transactionType,
    deleted_at: ts(a.deletedMs),
    contact: contact ? contactRef(contact) : ref(a.contact_id, `${a.contact_name} (${a.contact_reference})`, `/contacts/${a.contact_id}`),
    [k.prefixField]: a.prefix,
    [k.numberField]: a.number,
    contact_name: a.contact_name,
    contact_reference: a.contact_reference,
    date: a.date,
    ...(a.kind === "sales_invoice" ? { due_date: a.due_date } : { original_invoice_date: a.original_invoice_date }),
    reference: a.reference,
    main_address: a.main_address
      ? {
          address_line_1: a.main_address.address_line_1,
          address_line_2: a.main_address.address_line_2,
          city: a.main_address.city,
          postal_code: a.main_address.postal_code,
          region: a.main_address.region,
          country: a.main_address.country_id ? ref(a.main_address.country_id, a.main_address.country_id, `/countries/${a.main_address.country_id}`) : null,
        }
      : null,
    notes: a.notes,
    terms_and_conditions: a.terms_and_conditions,
    shipping_net_amount: 0,
    shipping_tax_rate: null,
    shipping_tax_amount: 0,
    shipping_tax_breakdown: [],
    shipping_total_amount: 0,
    net_amount: a.net_amount,
    tax_amount: a.tax_amount,
    total_amount: a.total_amount,
    payments_allocations_total_amount: a.allocated_amount,
    payments_allocations_total_discount: 0,
    total_paid: a.allocated_amount,
    outstanding_amount: out,
    currency: currencyRef(a.currency_id),
    exchange_rate: a.exchange_rate,
    inverse_exchange_rate: round2(1 / fx),
    base_currency_shipping_net_amount: 0,
    base_currency_shipping_tax_amount: 0,
    base_currency_shipping_tax_breakdown: [],
    base_currency_shipping_total_amount: 0,
    total_quantity: quantity,
    total_discount_amount: discount,
    base_currency_total_discount_amount: base(discount),
    base_currency_net_amount: base(a.net_amount),
    base_currency_tax_amount: base(a.tax_amount),
    base_currency_total_amount: base(a.total_amount),
    base_currency_outstanding_amount: base(out),
    status: statusRef(a.status),
    sent: a.sent,
    sent_by_email: false,
    void_reason: a.void_reason,
    [k.linesField]: a.lines.map((l) => renderLine(data, l)),
    tax_analysis: taxAnalysis(data, a),
    payments_allocations: [],
    last_paid: null,
    tax_reconciled: false,
    migrated: false,
  };
  return rendered;
}

// ---- validation -----------------------------------------------------------------------------

function validateLines(
  data: BusinessData,
  k: ArtefactKindInfo,
  raw: unknown,
  e: FieldErrors,
  existingLines: LineRec[],
): LineRec[] {
  const field = k.linesField;
  if (!Array.isArray(raw) || raw.length === 0) {
    e.add(field, "can't be blank");
    return [];
  }
  const out: LineRec[] = [];
  raw.forEach((item, index) => {
    const at = (f: string) => `${field}.${f}`;
    const n = index + 1;
    if (!isRecord(item)) {
      e.add(field, `line ${n} must be an object`);
      return;
    }
    const description = nonEmpty(item.description);
    if (!description) e.add(at("description"), `can't be blank (line ${n})`);

    const ledgerId = str(item.ledger_account_id);
    const ledger = ledgerId ? data.ledgerAccounts.get(ledgerId) : undefined;
    if (!ledgerId) e.add(at("ledger_account_id"), `can't be blank (line ${n})`);
    else if (!ledger) e.add(at("ledger_account_id"), `Couldn't find ledger account ${ledgerId} (line ${n})`);
    else if (!ledger.visible_in.includes("sales")) {
      e.add(at("ledger_account_id"), `ledger account ${ledger.nominal_code} is not visible in sales (line ${n})`);
    }

    let productId: string | null = null;
    if (has(item, "product_id") && item.product_id !== null) {
      productId = str(item.product_id);
      if (!productId || !data.products.get(productId)) e.add(at("product_id"), `Couldn't find product (line ${n})`);
    }
    let serviceId: string | null = null;
    if (has(item, "service_id") && item.service_id !== null) {
      serviceId = str(item.service_id);
      if (!serviceId || !data.services.get(serviceId)) e.add(at("service_id"), `Couldn't find service (line ${n})`);
    }

    const unitPrice = num(item.unit_price);
    if (unitPrice === null) e.add(at("unit_price"), `can't be blank (line ${n})`);
    const quantity = has(item, "quantity") ? num(item.quantity) : 1;
    if (quantity === null) e.add(at("quantity"), `is not a number (line ${n})`);
    const includesTax = bool(item.unit_price_includes_tax) ?? false;

    // Tax rate: explicit, else the ledger account's default.
    let taxId: string | null = null;
    if (has(item, "tax_rate_id") && item.tax_rate_id !== null) {
      taxId = str(item.tax_rate_id);
      const t = taxId ? data.taxRates.get(taxId) : undefined;
      if (!t) e.add(at("tax_rate_id"), `Couldn't find tax rate ${String(item.tax_rate_id)} (line ${n})`);
      else if (!t.usage.includes("sales")) e.add(at("tax_rate_id"), `tax rate ${t.id} is not for sales (line ${n})`);
    } else if (ledger?.tax_rate_id) {
      taxId = ledger.tax_rate_id;
    }
    const rate = taxId ? data.taxRates.get(taxId) : undefined;
    if (unitPrice === null || quantity === null || !description || !ledger) return;

    const gross = round2(quantity * unitPrice);
    let discount = num(item.discount_amount) ?? 0;
    const discountPct = num(item.discount_percentage) ?? 0;
    if (!has(item, "discount_amount") && discountPct) discount = round2((gross * discountPct) / 100);
    const afterDiscount = round2(gross - discount);

    const pct = rate?.percentage ?? 0;
    const taxable = !!rate && rate.kind !== "zero" && rate.kind !== "exempt" && rate.kind !== "no_tax" && pct > 0;
    const expectedTax = includesTax ? round2(afterDiscount - afterDiscount / (1 + pct / 100)) : round2((afterDiscount * pct) / 100);
    let taxAmount = 0;
    const givenTax = num(item.tax_amount);
    if (taxable) {
      if (givenTax === null) {
        e.add(at("tax_amount"), `is required for tax rate ${rate.id} (line ${n})`);
        return;
      }
      if (!close(givenTax, expectedTax)) {
        e.add(at("tax_amount"), `${givenTax} does not match ${pct}% of ${includesTax ? "the gross" : "the net"} amount (expected ${expectedTax.toFixed(2)}) (line ${n})`);
        return;
      }
      taxAmount = round2(givenTax);
    } else if (givenTax !== null && !close(givenTax, 0)) {
      e.add(at("tax_amount"), `must be 0 for tax rate ${rate?.id ?? "(none)"} (line ${n})`);
      return;
    }
    const net = includesTax ? round2(afterDiscount - taxAmount) : afterDiscount;
    const total = round2(net + taxAmount);
    const givenNet = num(item.net_amount);
    if (givenNet !== null && !close(givenNet, net)) {
      e.add(at("net_amount"), `${givenNet} does not equal quantity × unit price − discount (${net.toFixed(2)}) (line ${n})`);
    }
    const givenTotal = num(item.total_amount);
    if (givenTotal !== null && !close(givenTotal, total)) {
      e.add(at("total_amount"), `${givenTotal} does not equal net + tax (${total.toFixed(2)}) (line ${n})`);
    }
    const wantedId = str(item.id);
    const keepId = wantedId && existingLines.some((l) => l.id === wantedId) ? wantedId : null;
    out.push({
      id: keepId ?? randomId(),
      description,
      product_id: productId,
      service_id: serviceId,
      ledger_account_id: ledger.id,
      quantity,
      unit_price: unitPrice,
      unit_price_includes_tax: includesTax,
      discount_amount: round2(discount),
      discount_percentage: discountPct,
      net_amount: net,
      tax_rate_id: rate ? rate.id : null,
      tax_amount: taxAmount,
      total_amount: total,
    });
  });
  return out;
}

function lineToRaw(l: LineRec): Record<string, unknown> {
  return {
    id: l.id,
    description: l.description,
    ledger_account_id: l.ledger_account_id,
    product_id: l.product_id,
    service_id: l.service_id,
    quantity: l.quantity,
    unit_price: l.unit_price,
    unit_price_includes_tax: l.unit_price_includes_tax,
    discount_amount: l.discount_amount,
    tax_rate_id: l.tax_rate_id,
    tax_amount: l.tax_amount,
  };
}

/**
 * PUT line semantics (Rails nested attributes, as Sage's API behaves; not in the spec): a line with
 * the `id` of an existing line updates that line (given fields over the stored ones), `_destroy: true`
 * with an `id` removes it, a line without `id` is added; lines not mentioned stay.
 */
function mergeNestedLines(k: ArtefactKindInfo, existing: LineRec[], raw: unknown, e: FieldErrors): unknown[] | null {
  if (!Array.isArray(raw)) {
    e.add(k.linesField, "must be an array");
    return null;
  }
  const merged: Array<Record<string, unknown> | null> = existing.map(lineToRaw);
  const added: unknown[] = [];
  raw.forEach((item, i) => {
    if (!isRecord(item)) {
      added.push(item);
      return;
    }
    const id = str(item.id);
    if (!id) {
      added.push(item);
      return;
    }
    const at = existing.findIndex((l) => l.id === id);
    if (at < 0) {
      e.add(`${k.linesField}.id`, `Couldn't find line ${id} on this ${k.noun} (line ${i + 1})`);
      return;
    }
    if (item._destroy === true || item._destroy === "true" || item._destroy === 1) {
      merged[at] = null;
      return;
    }
    const { _destroy: _ignored, ...fields } = item;
    void _ignored;
    merged[at] = { ...(merged[at] ?? {}), ...fields };
  });
  return [...merged.filter((m): m is Record<string, unknown> => m !== null), ...added];
}

function checkHeaderTotals(body: Record<string, unknown>, lines: LineRec[], e: FieldErrors): void {
  const net = round2(lines.reduce((s, l) => s + l.net_amount, 0));
  const tax = round2(lines.reduce((s, l) => s + l.tax_amount, 0));
  const total = round2(net + tax);
  const check = (field: string, expected: number) => {
    const v = num(body[field]);
    if (v !== null && !close(v, expected)) e.add(field, `${v} does not equal the sum of the lines (${expected.toFixed(2)})`);
  };
  check("net_amount", net);
  check("tax_amount", tax);
  check("total_amount", total);
}

function applyArtefact(
  data: BusinessData,
  k: ArtefactKindInfo,
  body: Record<string, unknown>,
  existing: ArtefactRec | undefined,
): { ok: true; rec: ArtefactRec } | { ok: false; reply: Reply } {
  const e = new FieldErrors();
  const creating = existing === undefined;

  let contact = existing ? data.contacts.get(existing.contact_id) : undefined;
  if (creating || has(body, "contact_id")) {
    const id = str(body.contact_id);
    contact = id ? data.contacts.get(id) : undefined;
    if (!id) e.add("contact", "can't be blank");
    else if (!contact) e.add("contact", `Couldn't find customer ${id}.`);
    else if (!contact.contact_type_ids.includes("CUSTOMER")) e.add("contact", "Couldn't find Customer (the contact is not a customer).");
  }

  let date = existing?.date ?? "";
  if (creating || has(body, "date")) {
    const d = str(body.date);
    if (!d) e.add("date", "can't be blank");
    else if (!isValidDate(d)) e.add("date", "is not a valid date");
    else date = d;
  }

  let dueDate = existing?.due_date ?? null;
  if (k.kind === "sales_invoice") {
    if (has(body, "due_date") && body.due_date !== null) {
      const d = str(body.due_date);
      if (!d || !isValidDate(d)) e.add("due_date", "is not a valid date");
      else dueDate = d;
    } else if (creating && date) {
      dueDate = addDays(date, contact?.credit_days ?? 30);
    }
    if (dueDate && date && dueDate < date) e.add("due_date", "must be on or after the invoice date");
  }

  let originalInvoiceDate = existing?.original_invoice_date ?? null;
  if (k.kind === "sales_credit_note" && has(body, "original_invoice_date") && body.original_invoice_date !== null) {
    const d = str(body.original_invoice_date);
    if (!d || !isValidDate(d)) e.add("original_invoice_date", "is not a valid date");
    else originalInvoiceDate = d;
  }

  let currency = existing?.currency_id ?? contact?.currency_id ?? data.currency;
  if (has(body, "currency_id") && body.currency_id !== null) {
    const c = str(body.currency_id);
    if (!c || !CURRENCIES.some((x) => x.id === c)) e.add("currency_id", "is not a valid currency");
    else if (contact && contact.currency_id !== c) e.add("currency_id", `must match the contact's currency (${contact.currency_id})`);
    else currency = c;
  } else if (creating && contact) {
    currency = contact.currency_id;
  }
  let exchangeRate = existing?.exchange_rate ?? 1;
  const explicitRate = has(body, "exchange_rate") && body.exchange_rate !== null;
  if (explicitRate) {
    const x = num(body.exchange_rate);
    if (x === null || x <= 0) e.add("exchange_rate", "must be greater than 0");
    else exchangeRate = x;
  }
  if (currency === data.currency) exchangeRate = 1;
  else if (creating || currency !== existing?.currency_id) {
    // a foreign currency needs multi-currency; without a rate in the body the stored rate applies
    // (and without one of those, the document is refused rather than booked at 1)
    if (!data.multiCurrencyEnabled) e.add("currency_id", `can't be ${currency}: multi-currency is not enabled for this business (base currency ${data.currency})`);
    else if (!explicitRate) {
      const stored = data.exchangeRates[currency];
      if (stored) exchangeRate = stored.rate;
      else e.add("exchange_rate", `can't be blank: no exchange rate from ${data.currency} to ${currency} is stored`);
    }
  }

  let status = existing?.status ?? "UNPAID";
  if (has(body, "status_id") && body.status_id !== null) {
    const s = str(body.status_id);
    if (creating) {
      if (s !== "DRAFT" && s !== "UNPAID") e.add("status_id", "must be DRAFT or UNPAID when creating");
      else status = s;
    } else if (s !== existing.status && !(existing.status === "DRAFT" && s === "UNPAID")) {
      e.add("status_id", `cannot change from ${existing.status} to ${String(s)}`);
    } else if (s === "UNPAID") status = "UNPAID";
  }

  let reference = existing?.reference ?? null;
  if (has(body, "reference")) {
    const r = body.reference === null ? null : str(body.reference);
    if (r !== null && r.length > 50) e.add("reference", "is too long (maximum is 50 characters)");
    else reference = r;
  }

  let lines = existing?.lines ?? [];
  const linesGiven = creating || has(body, k.linesField);
  if (linesGiven) {
    if (existing && existing.allocated_amount > 0) {
      e.add(k.linesField, `cannot be changed on a ${k.noun} with payments or allocations`);
    } else if (existing) {
      const merged = mergeNestedLines(k, existing.lines, body[k.linesField], e);
      if (merged) lines = validateLines(data, k, merged, e, existing.lines);
    } else {
      lines = validateLines(data, k, body[k.linesField], e, []);
    }
  }
  if (!e.any) checkHeaderTotals(body, lines, e);
  if (e.any || !contact) return { ok: false, reply: e.reply() };

  const net = round2(lines.reduce((s, l) => s + l.net_amount, 0));
  const tax = round2(lines.reduce((s, l) => s + l.tax_amount, 0));
  const now = data.stamp(existing?.updatedMs);
  let number = existing?.number ?? "";
  if (creating) {
    if (k.kind === "sales_invoice") data.invoiceCounter += 1;
    else data.creditNoteCounter += 1;
    number = `${k.prefix}${k.kind === "sales_invoice" ? data.invoiceCounter : data.creditNoteCounter}`;
  }
  const addr = isRecord(body.main_address) ? body.main_address : null;
  return {
    ok: true,
    rec: {
      id: existing?.id ?? randomId(),
      createdMs: existing?.createdMs ?? now,
      updatedMs: now,
      deletedMs: null,
      kind: k.kind,
      prefix: k.prefix,
      number,
      contact_id: contact.id,
      contact_name: existing && existing.contact_id === contact.id ? existing.contact_name : contact.name,
      contact_reference: existing && existing.contact_id === contact.id ? existing.contact_reference : contact.reference,
      date,
      due_date: k.kind === "sales_invoice" ? dueDate : null,
      original_invoice_date: k.kind === "sales_credit_note" ? originalInvoiceDate : null,
      reference,
      notes: has(body, "notes") ? str(body.notes) : (existing?.notes ?? null),
      terms_and_conditions: has(body, "terms_and_conditions") ? str(body.terms_and_conditions) : (existing?.terms_and_conditions ?? null),
      currency_id: currency,
      exchange_rate: exchangeRate,
      status,
      void_reason: existing?.void_reason ?? null,
      sent: has(body, "sent") ? (bool(body.sent) ?? false) : (existing?.sent ?? false),
      main_address: addr
        ? {
            address_line_1: str(addr.address_line_1),
            address_line_2: str(addr.address_line_2),
            city: str(addr.city),
            postal_code: str(addr.postal_code),
            region: str(addr.region),
            country_id: str(addr.country_id),
          }
        : (existing?.main_address ?? contact.main_address),
      lines,
      net_amount: net,
      tax_amount: tax,
      total_amount: round2(net + tax),
      allocated_amount: existing?.allocated_amount ?? 0,
    },
  };
}

// ---- operations -----------------------------------------------------------------------------

function operations(k: ArtefactKindInfo): Operation[] {
  const name = `sage.${k.kind}s`;
  const store = (data: BusinessData) => data.artefactStore(k.kind);

  const list = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const q = ctx.query;
    const sort = parseSort(q.sort, ["created_at", "updated_at", "date", "due_date"]);
    if (!sort.ok) return sort.reply;
    // A date, or a date-time whose date part is used.
    const dateOf = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.slice(0, 10));
    for (const f of ["from_date", "to_date"] as const) {
      const v = q[f];
      if (v !== undefined && (!isValidDate(v.slice(0, 10)) || (v.length > 10 && parseSince(v) === null))) {
        return invalidParam(f, "is not a valid date");
      }
    }
    const fromDate = dateOf(q.from_date);
    const toDate = dateOf(q.to_date);
    if (q.status_id !== undefined && !ARTEFACT_STATUSES.some((s) => s.id === q.status_id)) {
      return invalidParam("status_id", "is not a valid artefact status");
    }
    const search = q.search?.toLowerCase();
    const key = (a: ArtefactRec): string | number => {
      switch (sort.ok ? sort.field : null) {
        case "updated_at":
          return a.updatedMs;
        case "date":
          return a.date;
        case "due_date":
          return a.due_date ?? "";
        default:
          return a.createdMs;
      }
    };
    const desc = sort.ok && sort.desc;
    return listReply({
      ctx,
      data,
      live: store(data).live(),
      deleted: store(data).deleted(),
      resourcePath: k.path,
      render: (a) => renderArtefact(data, a),
      filter: (a) =>
        (!search ||
          (a.reference ?? "").toLowerCase().includes(search) ||
          a.number.toLowerCase().includes(search) ||
          a.contact_name.toLowerCase().includes(search)) &&
        (!q.contact_id || a.contact_id === q.contact_id) &&
        (!q.status_id || a.status === q.status_id) &&
        (!fromDate || a.date >= fromDate) &&
        (!toDate || a.date <= toDate),
      sort: sort.field
        ? (a, b) => {
            const ka = key(a);
            const kb = key(b);
            const c = ka < kb ? -1 : ka > kb ? 1 : 0;
            return desc ? -c : c;
          }
        : undefined,
    });
  };

  const get = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const a = store(data).get(ctx.params.key ?? "");
    return a ? json(200, renderArtefact(data, a)) : notFound();
  };

  const create = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const b = wrapped(ctx, k.wrapper);
    if (!b.ok) return b.reply;
    const r = applyArtefact(data, k, b.body, undefined);
    if (!r.ok) return r.reply;
    store(data).insert(r.rec);
    return json(201, renderArtefact(data, r.rec));
  };

  const update = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const existing = store(data).get(ctx.params.key ?? "");
    if (!existing) return notFound();
    if (existing.status === "VOID") return invalid("base", `A voided ${k.noun} cannot be edited.`);
    const b = wrapped(ctx, k.wrapper);
    if (!b.ok) return b.reply;
    const r = applyArtefact(data, k, b.body, existing);
    if (!r.ok) return r.reply;
    Object.assign(existing, r.rec);
    return json(200, renderArtefact(data, existing));
  };

  // DELETE voids (200 + the voided document); a DRAFT is deleted instead (no void_reason needed).
  const remove = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const a = store(data).get(ctx.params.key ?? "");
    if (!a) return notFound();
    if (a.status === "DRAFT") {
      data.softDelete(a);
      return json(200, renderArtefact(data, a));
    }
    if (a.status === "VOID") return invalid("base", `The ${k.noun} has already been voided.`);
    const reason = ctx.query.void_reason;
    if (reason === undefined || reason.trim() === "") return invalid("void_reason", "can't be blank");
    if (reason.length > 200) return invalid("void_reason", "is too long (maximum is 200 characters)");
    if (a.allocated_amount > 0) {
      return invalid("base", `This ${k.noun} has payments or allocations; remove them before voiding.`);
    }
    a.status = "VOID";
    a.void_reason = reason;
    data.touch(a);
    return json(200, renderArtefact(data, a));
  };

  const release = (ctx: RequestContext, { data }: ApiContext): Reply => {
    const a = store(data).get(ctx.params.key ?? "");
    if (!a) return notFound();
    if (a.status !== "DRAFT") return invalid("base", `Only a draft ${k.noun} can be released.`);
    a.status = "UNPAID";
    data.touch(a);
    return json(201, renderArtefact(data, a));
  };

  return [
    { method: "GET", path: k.path, name: `${name}.list`, handler: list },
    { method: "POST", path: k.path, name: `${name}.create`, handler: create, idempotentWrapper: k.wrapper },
    { method: "GET", path: `${k.path}/:key`, name: `${name}.get`, handler: get },
    { method: "PUT", path: `${k.path}/:key`, name: `${name}.update`, handler: update },
    { method: "DELETE", path: `${k.path}/:key`, name: `${name}.void`, handler: remove },
    { method: "POST", path: `${k.path}/:key/release`, name: `${name}.release`, handler: release },
  ];
}

export const artefactOperations: Operation[] = [...operations(INVOICE), ...operations(CREDIT_NOTE)];
