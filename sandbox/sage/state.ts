// GET /__sandbox/state[?business=<id|key>] — what really exists in the simulated Sage.
import { json, type Reply } from "../http";
import type { RequestContext } from "../router";
import { renderArtefact } from "./api/artefacts";
import { renderContact } from "./api/contacts";
import type { BusinessData, ItemRec, Rec } from "./data";
import { sageTimestamp } from "./world";

function deletedList(recs: Rec[]): Array<{ id: string; deleted_at: string | null }> {
  return recs.map((r) => ({ id: r.id, deleted_at: r.deletedMs === null ? null : sageTimestamp(r.deletedMs) }));
}

function item(i: ItemRec): Record<string, unknown> {
  return {
    id: i.id,
    item_code: i.item_code,
    description: i.description,
    active: i.active,
    sales_ledger_account_id: i.sales_ledger_account_id,
    sales_tax_rate_id: i.sales_tax_rate_id,
    prices: i.prices,
    source_guid: i.source_guid,
    created_at: sageTimestamp(i.createdMs),
    updated_at: sageTimestamp(i.updatedMs),
  };
}

function counts(data: BusinessData): Record<string, number> {
  return {
    contacts: data.contacts.size(),
    products: data.products.size(),
    services: data.services.size(),
    sales_invoices: data.salesInvoices.size(),
    sales_credit_notes: data.salesCreditNotes.size(),
    contact_allocations: data.allocations.size(),
  };
}

export function stateReply(ctx: RequestContext): Reply {
  const s = ctx.sb.sage;
  const key = ctx.query.business;
  if (!key) {
    return json(200, {
      businesses: [...s.businesses.values()].map((b) => {
        const data = s.data.get(b.id);
        return { id: b.id, key: b.key, name: b.name, country: b.country, counts: data ? counts(data) : {} };
      }),
    });
  }
  const b = s.findBusiness(key);
  const data = b ? s.data.get(b.id) : undefined;
  if (!b || !data) return json(404, { error: "not_found", message: `unknown business ${key}` });
  return json(200, {
    business: { id: b.id, key: b.key, name: b.name, country: b.country, currency: b.currency, subscriptionActive: b.subscriptionActive },
    counts: counts(data),
    contacts: data.contacts.live().map((c) => renderContact(data, c)),
    products: data.products.live().map(item),
    services: data.services.live().map(item),
    sales_invoices: data.salesInvoices.live().map((a) => renderArtefact(data, a)),
    sales_credit_notes: data.salesCreditNotes.live().map((a) => renderArtefact(data, a)),
    deleted: {
      contacts: deletedList(data.contacts.deleted()),
      products: deletedList(data.products.deleted()),
      services: deletedList(data.services.deleted()),
      sales_invoices: deletedList(data.salesInvoices.deleted()),
      sales_credit_notes: deletedList(data.salesCreditNotes.deleted()),
    },
    idempotency_keys: data.idempotency.size,
    calls_in_rate_window: data.rateWindow.length,
  });
}
