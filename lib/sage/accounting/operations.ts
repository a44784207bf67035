import { getConfig } from "@/lib/config";
import { SageError } from "../errors";
import type {
  SageConnectionApi,
  SageContactDraft,
  SageContactRecord,
  SageDocumentDraft,
  SageDocumentKind,
  SageDocumentLine,
  SageItemDraft,
  SageItemRecord,
  SageItemType,
  SageLedgerAccount,
  SageSession,
} from "../target";
import { collectSagePages, createSageAccountingClient, sageSender, unwrap, withIdempotencyId, type SagePage } from "./api";

/**
 * The domain operations of lib/sage/target.ts on Sage Business Cloud Accounting v3.1: each one a
 * call (or a paged listing) of the published description, with the record mapped to and from
 * Sage's JSON here and nowhere else.
 */

type ContactDto = {
  id: string;
  displayed_as?: string;
  name?: string | null;
  reference?: string | null;
  email?: string | null;
  main_contact_person?: { email?: string | null } | null;
  currency?: { id?: string | null } | null;
};
type ItemDto = {
  id: string;
  displayed_as?: string;
  item_code?: string | null;
  description?: string | null;
  active?: boolean | null;
  sales_prices?: { price_name?: string | null; price?: number | string | null }[] | null;
  sales_rates?: { rate_name?: string | null; rate?: number | string | null }[] | null;
  sales_ledger_account?: { id?: string | null } | null;
  sales_tax_rate?: { id?: string | null } | null;
};
type DocDto = {
  id: string;
  displayed_as?: string;
  reference?: string | null;
  status?: { id: string } | null;
  outstanding_amount?: number | string | null;
  invoice_lines?: unknown[];
  credit_note_lines?: unknown[];
  contact?: { id: string } | null;
};

const CONTACT_ATTRIBUTES = "name,reference,email,currency";
const ITEM_ATTRIBUTES = {
  product: "item_code,description,active,sales_prices,sales_ledger_account,sales_tax_rate",
  service: "item_code,description,active,sales_rates,sales_ledger_account,sales_tax_rate",
} as const;
const PATH: Record<SageDocumentKind, "/sales_invoices" | "/sales_credit_notes"> = { sales_invoice: "/sales_invoices", sales_credit_note: "/sales_credit_notes" };

function contactRecord(c: ContactDto): SageContactRecord {
  return {
    id: c.id,
    displayedAs: c.displayed_as ?? null,
    name: c.name ?? null,
    reference: c.reference ?? null,
    email: c.email ?? c.main_contact_person?.email ?? null,
    currency: c.currency?.id ?? null,
  };
}

function itemRecord(type: SageItemType, i: ItemDto): SageItemRecord {
  const prices = type === "product" ? (i.sales_prices ?? []).map((p) => ({ name: p.price_name ?? null, amount: p.price ?? null })) : (i.sales_rates ?? []).map((r) => ({ name: r.rate_name ?? null, amount: r.rate ?? null }));
  return {
    id: i.id,
    type,
    displayedAs: i.displayed_as ?? null,
    itemCode: i.item_code ?? null,
    description: i.description ?? null,
    active: i.active ?? null,
    prices,
    salesLedgerAccountId: i.sales_ledger_account?.id ?? null,
    salesTaxRateId: i.sales_tax_rate?.id ?? null,
  };
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The `contact` body of `POST /contacts`: name, reference, currency, billing address, contact person, tax number. */
export function contactBody(d: SageContactDraft): Record<string, unknown> {
  const a = d.address;
  const address =
    a && (a.line1 || a.city || a.postalCode)
      ? dropUndefined({ address_line_1: a.line1, address_line_2: a.line2, city: a.city, postal_code: a.postalCode, region: a.region, country_id: a.country, is_main_address: true })
      : undefined;
  const person = d.email || d.phone || d.contactName ? dropUndefined({ name: d.contactName ?? d.name, email: d.email ?? undefined, telephone: d.phone, is_main_contact: true }) : undefined;
  return dropUndefined({
    name: d.name,
    contact_type_ids: ["CUSTOMER"],
    reference: d.reference,
    currency_id: d.currency ?? undefined,
    main_address: address,
    main_contact_person: person,
    tax_number: d.taxNumber,
  });
}

function apiLines(lines: SageDocumentLine[]) {
  return lines.map((l) => ({
    description: l.description,
    quantity: l.quantity,
    unit_price: l.unitPrice,
    ledger_account_id: l.ledgerAccountId,
    tax_rate_id: l.taxRateId,
    tax_amount: l.taxAmount,
    ...(l.productId ? { product_id: l.productId } : {}),
    ...(l.serviceId ? { service_id: l.serviceId } : {}),
  }));
}

/** The create body of an invoice or credit note. */
export function documentBody(d: SageDocumentDraft) {
  return withIdempotencyId(
    d.kind,
    {
      contact_id: d.contactId,
      // no due_date: Sage sets it from the contact's payment terms
      date: d.date,
      reference: d.reference,
      ...(d.currency ? { currency_id: d.currency } : {}),
      // a foreign-currency document carries the rate it was planned at (never Sage's silent default)
      ...(d.exchangeRate !== null ? { exchange_rate: d.exchangeRate } : {}),
      [d.kind === "sales_invoice" ? "invoice_lines" : "credit_note_lines"]: apiLines(d.lines),
      net_amount: d.totals.net,
      tax_amount: d.totals.tax,
      total_amount: d.totals.total,
      ...(d.kind === "sales_credit_note" && d.refunds ? { notes: `Refund for invoice ${d.refunds.number}`, original_invoice_date: d.refunds.date } : {}),
    },
    d.idempotencyId,
  );
}

/** Sage Business Cloud Accounting v3.1 for one session (one connected business). */
export function accountingConnection(session: SageSession): SageConnectionApi {
  const sage = createSageAccountingClient(session);
  // the write path's own transport: resolves at the 2xx head, the body read later (pipelined writes)
  const send = sageSender(session);
  const base = () => getConfig().sage.apiUrl;
  const list = <T>(path: string) => collectSagePages<T>(sage, path);

  return {
    async whoAmI() {
      const user = unwrap(await sage.GET("/user", {}));
      return { name: [user.first_name, user.last_name].filter(Boolean).join(" ") || user.email || user.id || "Sage user" };
    },
    async getBusiness(id) {
      const b = unwrap(await sage.GET("/businesses/{key}", { params: { path: { key: id } } }));
      return { id, name: b?.name ?? b?.displayed_as ?? null };
    },

    async getContact(id) {
      try {
        return contactRecord(unwrap(await sage.GET("/contacts/{key}", { params: { path: { key: id }, query: { attributes: CONTACT_ATTRIBUTES } } })) as ContactDto);
      } catch (e) {
        if (e instanceof SageError && e.kind === "not_found") return null;
        throw e;
      }
    },
    async findContactsByEmail(email) {
      return (await list<ContactDto>(`/contacts?email=${encodeURIComponent(email)}&contact_type_id=CUSTOMER&items_per_page=200&attributes=${CONTACT_ATTRIBUTES}`)).map(contactRecord);
    },
    async findContactsByReference(reference) {
      return (await list<ContactDto>(`/contacts?search=${encodeURIComponent(reference)}&items_per_page=200&attributes=${CONTACT_ATTRIBUTES}`)).map(contactRecord);
    },
    async listCustomerContacts() {
      return (await list<ContactDto>(`/contacts?items_per_page=200&contact_type_id=CUSTOMER&attributes=${CONTACT_ATTRIBUTES}`)).map(contactRecord);
    },
    async listCustomerContactsPage(page, perPage) {
      const size = Math.min(Math.max(Math.trunc(perPage), 1), 200);
      const path = `/contacts?items_per_page=${size}&page=${Math.max(Math.trunc(page), 1)}&contact_type_id=CUSTOMER&attributes=${CONTACT_ATTRIBUTES}`;
      const result = await (sage.GET as unknown as (p: string) => Promise<{ data?: SagePage<ContactDto>; error?: unknown; response: Response }>)(path);
      const body = unwrap(result);
      if (!body || typeof body !== "object" || !Array.isArray(body.$items)) {
        throw new SageError("retryable", `Sage answered GET /contacts with something that is not a list page (HTTP ${result.response.status})`, { status: result.response.status });
      }
      // past the last page Sage answers the last page again: the caller stops on hasMore
      return { contacts: body.$items.map(contactRecord), total: Number(body.$total ?? body.$items.length), hasMore: body.$next !== null && body.$next !== undefined && (body.$page ?? page) >= page };
    },
    async createContact(draft, idempotencyId) {
      const created = unwrap(await sage.POST("/contacts", { body: withIdempotencyId("contact", contactBody(draft), idempotencyId) as never })) as ContactDto | null;
      if (!created?.id) throw new SageError("unknown_outcome", "Sage's answer to the contact create carries no id");
      // the create's answer need not carry the attributes asked for in listings
      return { ...contactRecord(created), name: created.name ?? draft.name, reference: created.reference ?? draft.reference, email: contactRecord(created).email ?? draft.email };
    },

    async getItem(type, id) {
      const item = type === "service" ? unwrap(await sage.GET("/services/{key}", { params: { path: { key: id } } })) : unwrap(await sage.GET("/products/{key}", { params: { path: { key: id } } }));
      return itemRecord(type, item as ItemDto);
    },
    async listItems(type) {
      return (await list<ItemDto>(`/${type}s?items_per_page=200&attributes=${ITEM_ATTRIBUTES[type]}`)).map((i) => itemRecord(type, i));
    },
    async findItems(type, search) {
      return (await list<ItemDto>(`/${type}s?search=${encodeURIComponent(search)}&items_per_page=200&attributes=${ITEM_ATTRIBUTES[type]}`)).map((i) => itemRecord(type, i));
    },
    async createItem(d: SageItemDraft, idempotencyId) {
      const priced = d.price !== null && Number.isFinite(d.price);
      const common = { description: d.description, item_code: d.itemCode, notes: d.notes, sales_ledger_account_id: d.salesLedgerAccountId, source_guid: d.sourceGuid };
      const created =
        d.type === "service"
          ? unwrap(await sage.POST("/services", { body: withIdempotencyId("service", { ...common, sales_rates: priced ? [{ rate_name: "Selling Price", rate: d.price, rate_includes_tax: false }] : undefined }, idempotencyId) as never }))
          : unwrap(
              await sage.POST("/products", {
                body: withIdempotencyId("product", { ...common, purchase_ledger_account_id: d.purchaseLedgerAccountId, sales_prices: priced ? [{ price_name: "Selling Price", price: d.price, price_includes_tax: false }] : undefined }, idempotencyId) as never,
              }),
            );
      if (!(created as ItemDto | null)?.id) throw new SageError("unknown_outcome", `Sage's answer to the ${d.type} create carries no id`);
      return itemRecord(d.type, created as ItemDto);
    },
    async listLedgerAccounts(visibleIn) {
      const rows = await list<{ id: string; nominal_code?: number | null; tax_rate?: { id: string } | null }>(`/ledger_accounts?visible_in=${visibleIn}&items_per_page=200&attributes=nominal_code,tax_rate`);
      return rows.map((l): SageLedgerAccount => ({ id: l.id, nominalCode: l.nominal_code ?? null, taxRateId: l.tax_rate?.id ?? null }));
    },

    async salesReferenceData() {
      const rates = await list<{ id: string; percentage?: number | string }>("/tax_rates?usage=sales&attributes=percentage&items_per_page=200");
      const salesLedgers = await this.listLedgerAccounts("sales");
      const financial = unwrap(await sage.GET("/financial_settings", {})) as { base_currency?: { id?: string } | null; multi_currency_enabled?: boolean; country?: { id?: string } | null } | null;
      const multiCurrency = financial?.multi_currency_enabled === true;
      const exchangeRates: { currency: string; rate: number }[] = [];
      if (multiCurrency) {
        for (const r of await list<{ id: string; rate?: number | string | null; currency?: { id: string } | null }>("/exchange_rates?attributes=rate,currency&items_per_page=200")) {
          const rate = Number(r.rate);
          if (Number.isFinite(rate) && rate > 0) exchangeRates.push({ currency: (r.currency?.id ?? r.id).toUpperCase(), rate });
        }
      }
      return {
        taxRates: rates.map((r) => ({ id: r.id, percentage: Number(r.percentage ?? 0) })),
        salesLedgers,
        baseCurrency: financial?.base_currency?.id ?? null,
        multiCurrency,
        country: financial?.country?.id ?? null,
        exchangeRates,
      };
    },

    async createDocument(draft) {
      const answer = await send("POST", `${base()}${PATH[draft.kind]}`, JSON.stringify(documentBody(draft)));
      return {
        async read() {
          let created: DocDto | null;
          try {
            created = (await answer.json()) as DocDto | null;
          } catch (cause) {
            throw new SageError("unknown_outcome", `Sage's answer to the ${draft.kind === "sales_invoice" ? "invoice" : "credit note"} create was cut off or unreadable`, { status: answer.status, cause });
          }
          // a 2xx without the record: the document may exist; the caller looks it up by reference
          if (!created?.id) throw new SageError("unknown_outcome", `Sage's answer to the ${draft.kind === "sales_invoice" ? "invoice" : "credit note"} create carries no id`);
          return { id: created.id, displayedAs: created.displayed_as ?? null };
        },
      };
    },
    async findDocumentByReference(kind, reference, contactId) {
      const found = (await list<DocDto>(`${PATH[kind]}?search=${encodeURIComponent(reference)}&contact_id=${contactId}&attributes=reference,status`)).find((d) => d.reference === reference && d.status?.id !== "VOID");
      return found ? { id: found.id, displayedAs: found.displayed_as ?? null } : null;
    },
    async documentsSince(kind, since) {
      const stamp = encodeURIComponent(since.toISOString().replace(/\.\d{3}Z$/, "+00:00"));
      const rows = await list<DocDto>(`${PATH[kind]}?updated_or_created_since=${stamp}&attributes=reference,status,contact&items_per_page=200`);
      return rows.map((r) => ({ id: r.id, displayedAs: r.displayed_as ?? null, reference: r.reference ?? null, contactId: r.contact?.id ?? null, voided: r.status?.id === "VOID" }));
    },
    async getDocument(kind, id) {
      const doc = (
        kind === "sales_invoice"
          ? unwrap(await sage.GET("/sales_invoices/{key}", { params: { path: { key: id } } }))
          : unwrap(await sage.GET("/sales_credit_notes/{key}", { params: { path: { key: id } } }))
      ) as DocDto;
      return {
        id: doc.id,
        displayedAs: doc.displayed_as ?? null,
        status: doc.status?.id ?? null,
        outstanding: Number(doc.outstanding_amount ?? 0),
        contactId: doc.contact?.id ?? null,
        lineCount: (doc.invoice_lines ?? doc.credit_note_lines ?? []).length,
      };
    },
    async appendInvoiceLines(invoiceId, lines) {
      await sage.PUT("/sales_invoices/{key}", { params: { path: { key: invoiceId } }, body: { sales_invoice: { invoice_lines: apiLines(lines) } } as never });
    },
    async createAllocation(d) {
      const created = unwrap(
        await sage.POST("/contact_allocations", {
          body: {
            contact_allocation: {
              transaction_type_id: "CUSTOMER_ALLOCATION",
              contact_id: d.contactId,
              date: d.date,
              allocated_artefacts: [
                { artefact_id: d.invoiceId, amount: d.amount },
                { artefact_id: d.creditNoteId, amount: -d.amount },
              ],
            },
          } as never,
        }),
      ) as { id?: string } | null;
      return { id: created?.id ?? null };
    },
  };
}
