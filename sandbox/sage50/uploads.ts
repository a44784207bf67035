// Uploads (app → Sage 50): an Orders file, processed in stages the app follows with its trackingUrl,
// then a result file per record. Not in any public text we could read (SAGE-FACTS.md §3 "Not found"):
// the endpoint, the tracking shape, statuses and timing, the result and the numbering are all the
// contract's choices. The stage is computed from the time since the upload (no timers), so it keeps
// moving across a restart; an upload is processed (documents numbered) the first time it is read
// after its last stage.
import { isRecord, json, type Reply } from "../http";
import { route, type RequestContext, type Route } from "../router";
import { authenticate } from "./apikeys";
import { fail, objectBody } from "./replies";
import type { Company, FinalStatus, RecordResult, Sage50World, Upload } from "./state";

export const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const UPLOAD_SCOPE = "Orders";
const STAGES = ["received", "validating", "processing"] as const;
type Status = (typeof STAGES)[number] | FinalStatus;
/** Stages before the final one; stage i shows progress PROGRESS[i]. */
const PROGRESS = [0, 33, 67, 100];

function trackingUrl(ctx: RequestContext, uploadId: string): string {
  return `${ctx.origin}/sage50/api/uploads/${uploadId}`;
}

/** A record's id as text: a non-empty string or a number; null when there is none. */
function idOf(v: unknown): string | null {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

/** Why the file cannot be used at all (badRequest), or null. */
function unusable(scope: unknown, records: unknown): string | null {
  if (scope !== UPLOAD_SCOPE) return `Unknown scope ${JSON.stringify(scope ?? null)}; expected "${UPLOAD_SCOPE}"`;
  if (!Array.isArray(records) || records.length === 0) return "The file has no records";
  for (const [i, r] of records.entries()) {
    const id = isRecord(r) ? idOf(r.id) : null;
    if (!isRecord(r) || id === null) return `Record ${i + 1} has no id`;
    if (!isRecord(r.customer) || idOf(r.customer.id) === null) return `Record ${id} has no customer.id`;
    if (!Array.isArray(r.lines) || r.lines.length === 0) return `Record ${id} has no lines`;
  }
  return null;
}

/** 0–2: received, validating, processing; 3: finished. */
function stageIndex(u: Upload, now: number, stepMs: number): number {
  if (u.outcome) return 3;
  const steps = (from: number): number => (stepMs <= 0 ? 3 : Math.floor((now - from) / stepMs));
  const k = steps(u.createdMs);
  if (!u.stuck) return Math.min(k, 3);
  if (u.releasedMs === null) return Math.min(k, 2);
  return k >= 3 && steps(u.releasedMs) >= 1 ? 3 : Math.min(k, 2);
}

function processOrder(w: Sage50World, company: Company, u: Upload, order: Record<string, unknown>): RecordResult {
  const id = idOf(order.id) ?? "";
  const type = order.type;
  const documentType = typeof type === "string" ? type : "";
  const failed = (message: string): RecordResult => ({ id, status: "failed", documentType, message });
  if (u.forcedFailures?.recordIds.includes(id)) return failed(u.forcedFailures.message);
  if (type !== "invoice" && type !== "creditNote") return failed(`Unknown document type ${JSON.stringify(type ?? null)}; expected "invoice" or "creditNote"`);
  if (company.documents.some((d) => d.orderId === id)) return failed(`Order ${id} already exists`);
  const customerId = idOf((order.customer as Record<string, unknown>).id) ?? "";
  if (!company.files.Customers.records.some((c) => c.id === customerId)) return failed(`Unknown customer ${customerId}`);
  const productIds = new Set(company.files.Products.records.map((p) => p.id));
  for (const [i, line] of (order.lines as unknown[]).entries()) {
    const productId = isRecord(line) ? (idOf(line.productId) ?? "") : "";
    if (!productIds.has(productId)) return failed(`Unknown product ${productId || "(none)"} on line ${i + 1}`);
  }
  const documentNumber = type === "invoice" ? `SI-${++company.invoiceCounter}` : `SCN-${++company.creditNoteCounter}`;
  company.documents.push({ orderId: id, type, documentNumber, uploadId: u.uploadId, createdMs: w.now() });
  return { id, status: "accepted", documentType: type, documentNumber };
}

/** Processes every upload of the company whose last stage has passed, in the order they finished. */
export function settleUploads(w: Sage50World, company: Company): void {
  const now = w.now();
  const step = w.config.trackingStepMs;
  const due = company.uploads.filter((u) => !u.outcome && stageIndex(u, now, step) === 3);
  const finishedAt = (u: Upload): number => Math.max(u.createdMs + 3 * step, u.releasedMs === null ? 0 : u.releasedMs + step);
  due.sort((a, b) => finishedAt(a) - finishedAt(b));
  for (const u of due) {
    if (u.badRequest !== null) {
      u.outcome = { status: "badRequest", results: null, settledMs: now };
      continue;
    }
    const results = (u.records as Array<Record<string, unknown>>).map((order) => processOrder(w, company, u, order));
    u.outcome = { status: results.every((r) => r.status === "accepted") ? "accepted" : "failed", results, settledMs: now };
  }
}

export function uploadStatus(w: Sage50World, u: Upload): { status: Status; progress: number; statusMessage: string } {
  const n = Array.isArray(u.records) ? u.records.length : 0;
  if (u.outcome) {
    const failed = u.outcome.results?.filter((r) => r.status === "failed").length ?? 0;
    const statusMessage =
      u.outcome.status === "badRequest" ? (u.badRequest ?? "The file is not usable")
        : u.outcome.status === "failed" ? `${failed} of ${n} records failed`
          : `${n} of ${n} records accepted`;
    return { status: u.outcome.status, progress: 100, statusMessage };
  }
  const i = Math.min(stageIndex(u, w.now(), w.config.trackingStepMs), 2);
  const messages = ["File received", "Validating the file", `Processing ${n} records`];
  return { status: STAGES[i] ?? "processing", progress: PROGRESS[i] ?? 0, statusMessage: messages[i] ?? "" };
}

function createUpload(ctx: RequestContext): Reply {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth.reply;
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const { uploadId, scope, records } = parsed.body;
  if (typeof uploadId !== "string" || !UPLOAD_ID.test(uploadId)) return fail(400, "invalid_upload_id", "uploadId: 1–64 characters of A–Z, a–z, 0–9, _ and -");
  const w = ctx.sb.sage50;
  const company = auth.company;
  ctx.entry.upload_id = uploadId;
  if (company.uploads.some((u) => u.uploadId === uploadId)) {
    return fail(409, "duplicate_upload", undefined, { trackingUrl: trackingUrl(ctx, uploadId) });
  }
  settleUploads(w, company);
  const forcedBadRequest = w.takeUploadFault("bad_request");
  const upload: Upload = {
    uploadId,
    companyId: company.id,
    applicationId: auth.key.applicationId,
    scope: typeof scope === "string" ? scope : String(scope ?? ""),
    records: Array.isArray(records) ? records : [],
    createdMs: w.now(),
    badRequest: forcedBadRequest ? "Injected fault: bad_request" : unusable(scope, records),
    stuck: w.takeUploadFault("tracking_stuck"),
    releasedMs: null,
    forcedFailures: w.partialFailure(),
    outcome: null,
  };
  company.uploads.push(upload);
  const reply = json(202, { uploadId, trackingUrl: trackingUrl(ctx, uploadId) });
  if (w.takeUploadFault("drop_after_store")) reply.dropConnection = true;
  return reply;
}

function findUpload(ctx: RequestContext): { ok: true; upload: Upload } | { ok: false; reply: Reply } {
  const auth = authenticate(ctx);
  if (!auth.ok) return auth;
  settleUploads(ctx.sb.sage50, auth.company);
  const upload = auth.company.uploads.find((u) => u.uploadId === ctx.params.uploadId);
  if (!upload) return { ok: false, reply: fail(404, "unknown_upload") };
  return { ok: true, upload };
}

function tracking(ctx: RequestContext): Reply {
  const found = findUpload(ctx);
  if (!found.ok) return found.reply;
  const u = found.upload;
  const s = uploadStatus(ctx.sb.sage50, u);
  const body: Record<string, unknown> = { uploadId: u.uploadId, ...s };
  if (s.status === "accepted" || s.status === "failed") body.downloadResultUrl = `${trackingUrl(ctx, u.uploadId)}/result`;
  return json(200, body);
}

function result(ctx: RequestContext): Reply {
  const found = findUpload(ctx);
  if (!found.ok) return found.reply;
  const u = found.upload;
  if (!u.outcome?.results) {
    return fail(404, "no_result", u.outcome ? "A badRequest upload has no result file." : "The upload is still being processed.");
  }
  return json(200, { uploadId: u.uploadId, records: u.outcome.results });
}

export const uploadRoutes: Route[] = [
  route("POST", "/sage50/api/uploads", "sage50.uploads.create", createUpload),
  route("GET", "/sage50/api/uploads/:uploadId", "sage50.uploads.get", tracking),
  route("GET", "/sage50/api/uploads/:uploadId/result", "sage50.uploads.result", result),
];
