// /contact_allocations: allocate credit notes against invoices (refunds) — list, get, create, delete.
import { isRecord, json, noContent, type Reply } from "../../http";
import type { RequestContext } from "../../router";
import { randomId } from "../ids";
import type { AllocationRec, ArtefactKind, ArtefactRec, BusinessData } from "../data";
import { round2 } from "../data";
import { FieldErrors, isValidDate, listReply, notFound, num, ref, str, ts, wrapped } from "./common";
import { artefactRef, outstanding } from "./artefacts";
import { contactRef } from "./contacts";
import type { ApiContext, Operation } from "./types";

const CUSTOMER_ALLOCATION = ref("CUSTOMER_ALLOCATION", "Customer Allocation", "/transaction_types/CUSTOMER_ALLOCATION");

function findArtefact(data: BusinessData, id: string): ArtefactRec | undefined {
  return data.salesInvoices.get(id) ?? data.salesCreditNotes.get(id);
}

function statusAfter(a: ArtefactRec): ArtefactRec["status"] {
  if (a.allocated_amount <= 0) return "UNPAID";
  return round2(a.total_amount - a.allocated_amount) <= 0 ? "PAID" : "PART_PAID";
}

function render(data: BusinessData, r: AllocationRec): Record<string, unknown> {
  const contact = data.contacts.get(r.contact_id);
  return {
    id: r.id,
    displayed_as: r.date,
    $path: `/contact_allocations/${r.id}`,
    created_at: ts(r.createdMs),
    updated_at: ts(r.updatedMs),
    links: [],
    transaction: ref(r.id, r.date, `/transactions/${r.id}`),
    transaction_type: CUSTOMER_ALLOCATION,
    deleted_at: ts(r.deletedMs),
    date: r.date,
    contact: contact ? contactRef(contact) : null,
    allocated_artefacts: r.artefacts.map((x, i) => {
      const a = findArtefact(data, x.artefact_id);
      return {
        id: `${r.id.slice(0, 28)}${String(i + 1).padStart(4, "0")}`,
        artefact: a ? artefactRef(a) : ref(x.artefact_id, x.artefact_id, ""),
        amount: x.amount,
      };
    }),
  };
}

function create(ctx: RequestContext, { data }: ApiContext): Reply {
  const b = wrapped(ctx, "contact_allocation");
  if (!b.ok) return b.reply;
  const body = b.body;
  const e = new FieldErrors();
  if (str(body.transaction_type_id) !== "CUSTOMER_ALLOCATION") e.add("transaction_type_id", "must be CUSTOMER_ALLOCATION");
  const contact = data.contacts.get(str(body.contact_id) ?? "");
  if (!contact || !contact.contact_type_ids.includes("CUSTOMER")) e.add("contact_id", "Couldn't find Customer.");
  const date = str(body.date) ?? new Date(data.stamp()).toISOString().slice(0, 10);
  if (!isValidDate(date)) e.add("date", "is not a valid date");
  const raw = body.allocated_artefacts;
  const parts: Array<{ a: ArtefactRec; amount: number }> = [];
  if (!Array.isArray(raw) || raw.length < 2) e.add("allocated_artefacts", "needs at least two artefacts");
  else {
    raw.forEach((x, i) => {
      const n = i + 1;
      if (!isRecord(x)) return e.add("allocated_artefacts", `item ${n} must be an object`);
      const a = findArtefact(data, str(x.artefact_id) ?? "");
      const amount = num(x.amount);
      if (!a) return e.add("allocated_artefacts.artefact_id", `Couldn't find artefact (item ${n})`);
      if (contact && a.contact_id !== contact.id) return e.add("allocated_artefacts.artefact_id", `belongs to another contact (item ${n})`);
      if (a.status === "VOID" || a.status === "DRAFT") return e.add("allocated_artefacts.artefact_id", `${a.number} is ${a.status.toLowerCase()} (item ${n})`);
      if (amount === null || amount === 0) return e.add("allocated_artefacts.amount", `can't be blank (item ${n})`);
      const sign = a.kind === "sales_invoice" ? 1 : -1;
      if (Math.sign(amount) !== sign) {
        return e.add("allocated_artefacts.amount", `must be ${sign > 0 ? "positive for an invoice" : "negative for a credit note"} (item ${n})`);
      }
      if (Math.abs(amount) - outstanding(a) > 0.001) {
        return e.add("allocated_artefacts.amount", `exceeds the outstanding amount of ${a.number} (${outstanding(a).toFixed(2)}) (item ${n})`);
      }
      parts.push({ a, amount });
    });
    if (!e.any && Math.abs(round2(parts.reduce((s, p) => s + p.amount, 0))) > 0.001) {
      e.add("allocated_artefacts", "amounts must add up to zero");
    }
  }
  if (e.any || !contact) return e.reply();
  const now = data.stamp();
  const rec: AllocationRec = {
    id: randomId(),
    createdMs: now,
    updatedMs: now,
    deletedMs: null,
    transaction_type_id: "CUSTOMER_ALLOCATION",
    contact_id: contact.id,
    date,
    artefacts: parts.map((p) => ({ artefact_id: p.a.id, kind: p.a.kind as ArtefactKind, amount: p.amount })),
  };
  for (const p of parts) {
    p.a.allocated_amount = round2(p.a.allocated_amount + Math.abs(p.amount));
    p.a.status = statusAfter(p.a);
    data.touch(p.a);
  }
  data.allocations.insert(rec);
  return json(201, render(data, rec));
}

function remove(ctx: RequestContext, { data }: ApiContext): Reply {
  const r = data.allocations.get(ctx.params.key ?? "");
  if (!r) return notFound();
  for (const x of r.artefacts) {
    const a = findArtefact(data, x.artefact_id);
    if (!a) continue;
    a.allocated_amount = round2(a.allocated_amount - Math.abs(x.amount));
    a.status = statusAfter(a);
    data.touch(a);
  }
  data.softDelete(r);
  return noContent();
}

export const allocationOperations: Operation[] = [
  {
    method: "GET",
    path: "/contact_allocations",
    name: "sage.contact_allocations.list",
    handler: (ctx, { data }) =>
      listReply({
        ctx,
        data,
        live: data.allocations.live(),
        deleted: data.allocations.deleted(),
        resourcePath: "/contact_allocations",
        render: (r) => render(data, r),
        filter: (r) => !ctx.query.contact_id || r.contact_id === ctx.query.contact_id,
      }),
  },
  { method: "POST", path: "/contact_allocations", name: "sage.contact_allocations.create", handler: create, idempotentWrapper: "contact_allocation" },
  {
    method: "GET",
    path: "/contact_allocations/:key",
    name: "sage.contact_allocations.get",
    handler: (ctx, { data }) => {
      const r = data.allocations.get(ctx.params.key ?? "");
      return r ? json(200, render(data, r)) : notFound();
    },
  },
  { method: "DELETE", path: "/contact_allocations/:key", name: "sage.contact_allocations.delete", handler: remove },
];
