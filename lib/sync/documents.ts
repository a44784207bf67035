import { createHash } from "node:crypto";
import { eq, inArray, sql, type SQL } from "drizzle-orm";
import { arrayParam } from "@/db/array-param";
import type { Queryable } from "@/db/client";
import { sageDocuments, syncTasks } from "@/db/schema";
import type { SageConnectionApi, SageDocumentDraft, SageDocumentKind } from "@/lib/sage/target";
import { businessDate } from "./business-date";
import { documentTotals, type PlannedLine } from "./plan";

/**
 * Exactly once, in one place — the protocol every flow that writes a document to Sage follows
 * (the per-task flow and Sync all alike):
 *   1. the idempotency id of the write is derived from what it is for (tenant + task + kind), so
 *      every attempt of every process sends the same one;
 *   2. a pending marker (sage_documents row, sage_id '') is stored BEFORE the write;
 *   3. the write; Sage's answer records the document's id on the marker;
 *   4. a marker found pending (an attempt whose outcome is unknown: crash, lost or cut-off answer)
 *      is looked up in Sage by reference before the document is ever written again.
 */

// ─── 1. idempotency ids ──────────────────────────────────────────────────────────────────────

/** A stable idempotency id for one logical create: sha256(parts) → first 32 hex characters. */
export function deriveIdempotencyId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u001f")).digest("hex").slice(0, 32);
}

/** Every idempotency id the connector sends, derived in one place. */
export const idempotencyIds = {
  /** the Sage contact of a marketplace customer (the sync and Mapping's "Create contact in Sage" send the same) */
  contact: (tenantId: string, marketplaceCustomerId: string) => deriveIdempotencyId(tenantId, marketplaceCustomerId, "contact"),
  /** the Sage item of a marketplace product ("Add to Sage") */
  item: (tenantId: string, marketplaceProductId: string) => deriveIdempotencyId(tenantId, marketplaceProductId, "item"),
  /** a task's invoice or credit note */
  document: (tenantId: string, taskId: string, kind: SageDocumentKind) => deriveIdempotencyId(tenantId, taskId, kind),
  /** a task's lines appended to an open invoice */
  invoiceLines: (tenantId: string, taskId: string) => deriveIdempotencyId(tenantId, taskId, "sales_invoice_lines"),
  /** a refund credit note's allocation against its invoice */
  allocation: (tenantId: string, taskId: string) => deriveIdempotencyId(tenantId, taskId, "contact_allocation"),
};

// ─── the draft ───────────────────────────────────────────────────────────────────────────────

/** A planned invoice or credit note as the target's draft: dated on the business's calendar day, totals from its lines. */
export function documentDraft(d: {
  kind: SageDocumentKind;
  contactId: string;
  reference: string;
  currency: string | null;
  exchangeRate: number | null;
  timeZone: string;
  lines: PlannedLine[];
  idempotencyId: string;
  /** a refund credit note: the invoice it refunds (the reference stays the order id, our exactly-once look-up key) */
  refunds?: { number: string; createdAt: Date } | null;
}): SageDocumentDraft {
  return {
    kind: d.kind,
    contactId: d.contactId,
    reference: d.reference,
    date: businessDate(d.timeZone),
    currency: d.currency,
    exchangeRate: d.exchangeRate,
    lines: d.lines,
    totals: documentTotals(d.lines),
    idempotencyId: d.idempotencyId,
    refunds: d.refunds ? { number: d.refunds.number, date: businessDate(d.timeZone, d.refunds.createdAt) } : null,
  };
}

// ─── 2. pending markers ──────────────────────────────────────────────────────────────────────

export type PendingMarker = { taskId: string; kind: SageDocumentKind; reference: string; idempotencyId: string; currency: string | null; billingPeriod: string | null; contactId: string };
export type ExistingMarker = { sageId: string; displayedAs: string | null; createdAt: Date };

/**
 * One statement (atomic on its own, so no transaction needs to hold the connection): `claimTaskIds`
 * set processing, and the markers stored unless they exist. Answers the idempotency ids it stored:
 * the others existed already (an earlier attempt) — read them with `existingMarkers`.
 */
export async function storePendingMarkers(q: Queryable, input: { tenantId: string; connectionId: string }, markers: PendingMarker[], claimTaskIds: string[] = []): Promise<string[]> {
  if (claimTaskIds.length === 0 && markers.length === 0) return [];
  const col = <T>(f: (m: PendingMarker) => T) => markers.map(f);
  const claim: SQL = claimTaskIds.length
    ? sql`with claimed as (
        update ${syncTasks} set state = 'processing', attempts = ${syncTasks.attempts} + 1, updated_at = ${new Date()}
        where ${syncTasks.id} = any(${arrayParam(claimTaskIds, "uuid")})
        returning 1
      )`
    : sql``;
  const stored = (await q.execute(sql`${claim}
      insert into ${sageDocuments} (tenant_id, connection_id, task_id, kind, sage_id, reference, idempotency_id, currency, billing_period, details)
      select ${input.tenantId}, ${input.connectionId}, m.task_id, m.kind, '', m.reference, m.idempotency_id, m.currency, m.billing_period, jsonb_build_object('status', 'pending', 'contactId', m.contact_id)
      from unnest(${arrayParam(col((m) => m.taskId), "uuid")}, ${arrayParam(col((m) => m.kind), "text")}, ${arrayParam(col((m) => m.reference), "text")}, ${arrayParam(col((m) => m.idempotencyId), "text")},
                  ${arrayParam(col((m) => m.currency), "text")}, ${arrayParam(col((m) => m.billingPeriod), "text")}, ${arrayParam(col((m) => m.contactId), "text")})
        as m(task_id, kind, reference, idempotency_id, currency, billing_period, contact_id)
      on conflict (idempotency_id) do nothing
      returning idempotency_id`)) as unknown as { rows: { idempotency_id: string }[] };
  return stored.rows.map((r) => r.idempotency_id);
}

/** Markers an earlier attempt stored: written ones carry their Sage id, pending ones an empty one. */
export async function existingMarkers(q: Queryable, idempotencyIds: string[]): Promise<Map<string, ExistingMarker>> {
  const out = new Map<string, ExistingMarker>();
  if (idempotencyIds.length === 0) return out;
  const rows = await q.select().from(sageDocuments).where(inArray(sageDocuments.idempotencyId, idempotencyIds));
  for (const r of rows) out.set(r.idempotencyId, { sageId: r.sageId, displayedAs: r.displayedAs, createdAt: r.createdAt });
  return out;
}

// ─── 3. recording what was written ───────────────────────────────────────────────────────────

export type WrittenRecord = { idempotencyId: string; sageId: string; displayedAs: string | null; contactId: string; total: number };

/** The update that records written documents on their markers (a statement of its own, or a CTE of a larger one). */
export function recordWrittenStatement(written: WrittenRecord[]): SQL {
  return sql`
      update ${sageDocuments} set sage_id = v.sage_id, displayed_as = v.displayed_as, details = jsonb_build_object('status', 'written', 'contactId', v.contact_id, 'total', v.total)
      from unnest(${arrayParam(written.map((w) => w.idempotencyId), "text")}, ${arrayParam(written.map((w) => w.sageId), "text")}, ${arrayParam(written.map((w) => w.displayedAs), "text")},
                  ${arrayParam(written.map((w) => w.contactId), "text")}, ${arrayParam(written.map((w) => w.total), "float8")})
        as v(idempotency_id, sage_id, displayed_as, contact_id, total)
      where ${sageDocuments.idempotencyId} = v.idempotency_id`;
}

export async function recordWritten(q: Queryable, written: WrittenRecord[]): Promise<void> {
  if (written.length) await q.execute(recordWrittenStatement(written));
}

// ─── 4. looking up interrupted writes ────────────────────────────────────────────────────────

/** The one document written for `reference` (not void), if Sage has it: the look-up before any second write. */
export function findWrittenDocument(api: SageConnectionApi, d: { kind: SageDocumentKind; reference: string; contactId: string }) {
  return api.findDocumentByReference(d.kind, d.reference, d.contactId);
}

/**
 * Many interrupted writes at once: one listing of what was created since the oldest pending marker
 * (rather than one search per document) tells which exist. Answers the found ones by idempotency id;
 * a document not listed was not written (the listing is authoritative).
 */
export async function findInterruptedWrites(
  api: SageConnectionApi,
  pending: { kind: SageDocumentKind; reference: string; contactId: string; idempotencyId: string; markedAt: Date }[],
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<Map<string, { sageId: string; displayedAs: string | null }>> {
  const found = new Map<string, { sageId: string; displayedAs: string | null }>();
  if (pending.length === 0) return found;
  const since = new Date(Math.min(...pending.map((p) => p.markedAt.getTime())) - 60_000);
  for (const kind of ["sales_invoice", "sales_credit_note"] as const) {
    const mine = pending.filter((p) => p.kind === kind);
    if (mine.length === 0) continue;
    const recent = await retry(() => api.documentsSince(kind, since));
    const byReference = new Map<string, { id: string; displayedAs: string | null }>();
    for (const r of recent) if (r.reference && !r.voided) byReference.set(`${r.contactId ?? ""}|${r.reference}`, r);
    for (const p of mine) {
      const hit = byReference.get(`${p.contactId}|${p.reference}`);
      if (hit) found.set(p.idempotencyId, { sageId: hit.id, displayedAs: hit.displayedAs });
    }
  }
  return found;
}

// ─── the whole protocol for one document ─────────────────────────────────────────────────────

/**
 * Write one invoice or credit note exactly once (the per-task flow): an existing written marker wins;
 * a pending one is looked up in Sage by reference before the create is repeated; else the marker is
 * stored, the document created and its id recorded.
 */
export async function writeDocumentOnce(
  db: Queryable,
  api: SageConnectionApi,
  input: { tenantId: string; connectionId: string; taskId: string; billingPeriod: string | null },
  draft: SageDocumentDraft,
): Promise<{ sageId: string; displayedAs: string | null; total: number }> {
  const total = draft.totals.total;
  const marker: PendingMarker = { taskId: input.taskId, kind: draft.kind, reference: draft.reference, idempotencyId: draft.idempotencyId, currency: draft.currency, billingPeriod: input.billingPeriod, contactId: draft.contactId };
  const stored = await storePendingMarkers(db, input, [marker]);
  if (stored.length === 0) {
    const existing = (await existingMarkers(db, [draft.idempotencyId])).get(draft.idempotencyId);
    if (existing?.sageId) return { sageId: existing.sageId, displayedAs: existing.displayedAs, total };
    // a previous attempt's outcome is unknown: look before writing again
    const found = await findWrittenDocument(api, draft);
    if (found) {
      await recordWritten(db, [{ idempotencyId: draft.idempotencyId, sageId: found.id, displayedAs: found.displayedAs, contactId: draft.contactId, total }]);
      return { sageId: found.id, displayedAs: found.displayedAs, total };
    }
  }
  const created = await (await api.createDocument(draft)).read();
  await recordWritten(db, [{ idempotencyId: draft.idempotencyId, sageId: created.id, displayedAs: created.displayedAs, contactId: draft.contactId, total }]);
  return { sageId: created.id, displayedAs: created.displayedAs, total };
}

/** The marker of a task's document, read by its idempotency id. */
export async function markerOf(q: Queryable, idempotencyId: string) {
  const [row] = await q.select().from(sageDocuments).where(eq(sageDocuments.idempotencyId, idempotencyId));
  return row;
}
