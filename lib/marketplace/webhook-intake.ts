import { and, eq, isNull, sql } from "drizzle-orm";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { Database } from "@/db/client";
import { inboxEvents, installations, tenants } from "@/db/schema";
import { findMarketplace, getConfig } from "@/lib/config";
import { uninstallInstallation } from "@/lib/install/uninstall";
import { decryptSecret } from "@/lib/crypto/envelope";
import { parseStorableJson, storableText, type StorableProblem } from "@/lib/http/storable-json";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { getSettings } from "@/lib/settings/settings";
import { recordOrder } from "@/lib/tasks/record-order";
import { WEBHOOK_EVENT_TYPES, webhookEventSchema, type WebhookEvent } from "./api-schemas";
import { upsertMarketplaceCustomer, upsertMarketplaceProduct } from "./catalog";
import { isPermanent, logRejectedRecord, recordLabel, type RejectedKind } from "./rejected-record";

/**
 * Push side of the order source: the marketplace's signed events (Standard Webhooks v1,
 * docs/marketplace-api.md) for one installation.
 *
 * Order of checks, each answered without touching the inbox:
 * 413 body over 1 MB (Content-Length, then the bytes actually read) → 404 unknown installation →
 * 415 Content-Type not `application/json` (optionally `; charset=utf-8`) →
 * 400 `webhook-id` longer than 256 characters →
 * 401 missing/bad signature or timestamp outside ±5 min (several signatures allowed: rotation) →
 * 400 body not JSON →
 * 422 text PostgreSQL cannot store (U+0000, a lone surrogate) or nesting deeper than 64 levels: the
 *     answer names the JSON path, and — the sender is proven by now — the tenant's Action Log says
 *     which record, which field and what to do (once per webhook-id, however often it is retried) →
 * 410 the installation is uninstalled (after the signature check) →
 * 400 unknown event type / shape wrong / another account (the message names the problem) →
 * inbox row keyed by (installation, `webhook-id`) (ON CONFLICT DO NOTHING): already there → 200
 * `{duplicate:true}`; new → enqueue processing (an Inngest event) → 202.
 *
 * The installation (its tenant's account, state and decrypted secret) is read once and kept per
 * process for a few seconds (INSTALLATION_CACHE_TTL_MS): a marketplace sends bursts of events for one
 * installation, and the look-up was one database round trip and two AES-GCM opens per event. The cache
 * never decides against a sender: any refusal it would cause (no secret, bad signature — e.g. just after
 * a rotation —, uninstalled) is decided again on a fresh read; and the inbox insert itself only inserts
 * while the installation is not uninstalled (one statement), so an event for an installation uninstalled
 * a moment ago by another process is answered 410, never accepted from a stale entry.
 */

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export type WebhookResponse = { status: number; body: Record<string, unknown> };

export type WebhookIntakeInput = {
  installationId: string;
  headers: Headers;
  /** the raw body: a stream (route handler) or the bytes / text (tests) */
  body: ReadableStream<Uint8Array> | Uint8Array | string | null;
};

export type WebhookIntakeDeps = {
  /** hand a new inbox row to the processor (inngest/send: `marketplace/event.received`) */
  enqueue: (webhookId: string, installationId: string) => Promise<void>;
};

/** webhook-ids are short (Standard Webhooks: `msg_…`); a longer one is refused before it is stored or hashed into an event id */
export const MAX_WEBHOOK_ID_LENGTH = 256;

/** `application/json`, optionally with `charset=utf-8` (any case, quoted or not); nothing else. */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => p === "" || /^charset=("?)utf-8\1$/.test(p));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class BodyTooLarge extends Error {}

function problem(status: number, error: string, message: string): WebhookResponse {
  return { status, body: { error, message } };
}

/** Reads at most `limit` bytes; throws BodyTooLarge as soon as the body is bigger. */
export async function readBodyLimited(body: WebhookIntakeInput["body"], limit = MAX_WEBHOOK_BODY_BYTES): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body instanceof Uint8Array ? body : null;
  if (bytes) {
    if (bytes.byteLength > limit) throw new BodyTooLarge();
    return bytes;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** How long a process trusts what it read about an installation (positive answers only, see above). */
export const INSTALLATION_CACHE_TTL_MS = 5_000;
const INSTALLATION_CACHE_MAX = 10_000;

type InstallationRow = typeof installations.$inferSelect;
type KnownInstallation = { installation: InstallationRow; accountId: string; secret: string | null; cached: boolean };
type CacheEntry = { value: Omit<KnownInstallation, "cached">; until: number };
/** per database handle (tests open many), installation id → what was read */
const installationCache = new WeakMap<Database, Map<string, CacheEntry>>();

async function lookupInstallation(db: Database, installationId: string, fresh = false): Promise<KnownInstallation | undefined> {
  let cache = installationCache.get(db);
  if (!cache) installationCache.set(db, (cache = new Map()));
  const now = Date.now();
  const hit = cache.get(installationId);
  if (hit && !fresh && hit.until > now) return { ...hit.value, cached: true };
  const [row] = await db
    .select({ installation: installations, accountId: tenants.marketplaceAccountId })
    .from(installations)
    .innerJoin(tenants, eq(tenants.id, installations.tenantId))
    .where(eq(installations.id, installationId));
  if (!row) {
    cache.delete(installationId); // an unknown id is never remembered (404 is always the database's answer)
    return undefined;
  }
  const value = { installation: row.installation, accountId: row.accountId, secret: row.installation.webhookSecretEncrypted ? decryptSecret(row.installation.webhookSecretEncrypted) : null };
  cache.delete(installationId);
  if (cache.size >= INSTALLATION_CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(installationId, { value, until: now + INSTALLATION_CACHE_TTL_MS });
  return { ...value, cached: false };
}

/** Forget what this process read about an installation (it was just changed here). */
export function forgetInstallation(db: Database, installationId: string) {
  installationCache.get(db)?.delete(installationId);
}

const tooLarge = () => problem(413, "payload_too_large", `The body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes (1 MB); nothing was recorded.`);

/** Verify, validate and record one webhook delivery. The route handler only maps the result to HTTP. */
export async function receiveMarketplaceWebhook(db: Database, input: WebhookIntakeInput, deps: WebhookIntakeDeps): Promise<WebhookResponse> {
  const declared = Number(input.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BODY_BYTES) return tooLarge();

  let row = UUID.test(input.installationId) ? await lookupInstallation(db, input.installationId) : undefined;
  const unknown = () => problem(404, "unknown_installation", "No installation with this id: events for it are not accepted.");
  if (!row) return unknown();

  let raw: Uint8Array;
  try {
    raw = await readBodyLimited(input.body);
  } catch (e) {
    if (e instanceof BodyTooLarge) return tooLarge();
    throw e;
  }
  // The media type is checked before the signature: the signature does not cover headers, so a
  // signed body with another Content-Type is no more trustworthy after the HMAC than before it, and
  // refusing it first costs nothing (no secret decrypted, no HMAC over up to 1 MB, nothing logged).
  // A sender that gets this wrong has a configuration problem it sees in the 415 message.
  if (!isJsonContentType(input.headers.get("content-type"))) {
    const got = input.headers.get("content-type");
    return problem(415, "unsupported_media_type", `Marketplace events must be sent as application/json (optionally “; charset=utf-8”)${got ? `, not ${JSON.stringify(storableText(got).slice(0, 100))}` : "; no Content-Type was given"}. Nothing was recorded.`);
  }
  const text = new TextDecoder("utf-8").decode(raw);

  const webhookId = input.headers.get("webhook-id");
  const headers = {
    "webhook-id": webhookId ?? "",
    "webhook-timestamp": input.headers.get("webhook-timestamp") ?? "",
    "webhook-signature": input.headers.get("webhook-signature") ?? "",
  };
  // a refusal decided on a remembered installation is decided again on a fresh read (rotated secret, reinstalled)
  let refusal = authenticate(row, text, headers);
  if (refusal && row.cached) {
    row = await lookupInstallation(db, input.installationId, true);
    if (!row) return unknown();
    refusal = authenticate(row, text, headers);
  }
  if (refusal) return refusal;

  // depth checked on the raw text before parsing, then every string and key (lib/http/storable-json.ts)
  const body = parseStorableJson(text);
  if (!body.ok && "malformed" in body) return problem(400, "malformed_json", `The body is not valid JSON (${body.malformed}).`);
  if (!body.ok) return refuseUnstorable(db, { tenantId: row.installation.tenantId, installationId: row.installation.id, marketplaceId: row.installation.marketplaceId, webhookId: webhookId!, problem: body.problem, value: body.value });
  const json = body.value;
  const type = json && typeof json === "object" && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined;
  if (typeof type !== "string") return problem(400, "missing_event_type", "The body has no event “type”.");
  if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
    return problem(400, "unknown_event_type", `Unknown event type “${type}”; expected one of ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
  }
  const parsed = webhookEventSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    return problem(400, "invalid_event", `The ${type} event does not have the expected shape — ${issues.join("; ")}.`);
  }
  if (parsed.data.data.account_id !== row.accountId) {
    return problem(400, "wrong_account", `The event is for account ${parsed.data.data.account_id}, but this installation belongs to ${row.accountId}.`);
  }

  // one statement: inserted only while the installation is not uninstalled (whatever this process remembers)
  const insertedRows = await db.execute(sql`
    insert into ${inboxEvents} (webhook_id, installation_id, tenant_id, type, payload)
    select ${webhookId!}::text, ${installations.id}, ${installations.tenantId}, ${type}::text, ${JSON.stringify(json)}::jsonb
    from ${installations}
    where ${installations.id} = ${row.installation.id}::uuid and ${installations.uninstalledAt} is null
    on conflict (installation_id, webhook_id) do nothing
    returning webhook_id`);
  const inserted = ((insertedRows as unknown as { rows: unknown[] }).rows ?? []).length > 0;
  if (!inserted) {
    const [state] = await db
      .select({ uninstalledAt: installations.uninstalledAt, known: inboxEvents.webhookId, processedAt: inboxEvents.processedAt })
      .from(installations)
      .leftJoin(inboxEvents, and(eq(inboxEvents.installationId, installations.id), eq(inboxEvents.webhookId, webhookId!)))
      .where(eq(installations.id, row.installation.id));
    if (!state) return unknown();
    if (state.uninstalledAt) {
      forgetInstallation(db, row.installation.id);
      return gone(state.uninstalledAt);
    }
    // A retry of a delivery we already have (same installation, same webhook-id; another
    // installation's event with the same id is a different event). If its processing was never
    // handed over (the process died between the insert and the enqueue), hand it over again: the
    // event id is derived from both ids, so an enqueue that did happen is not repeated, and
    // processing is idempotent anyway.
    if (state.known && !state.processedAt) await deps.enqueue(webhookId!, row.installation.id);
    return { status: 200, body: { duplicate: true, webhookId } };
  }
  await deps.enqueue(webhookId!, row.installation.id);
  return { status: 202, body: { accepted: true, webhookId } };
}

function marketplaceActor(marketplaceId: string | undefined): Actor {
  const marketplace = marketplaceId ? findMarketplace(marketplaceId) : undefined;
  return { type: "marketplace", id: marketplaceId ?? null, label: marketplace?.name ?? MARKETPLACE_ACTOR_FALLBACK.label };
}

const RECORD_OF: Record<string, { kind: RejectedKind; key: "request" | "customer" | "product" }> = {
  order: { kind: "order", key: "request" },
  customer: { kind: "customer", key: "customer" },
  product: { kind: "product", key: "product" },
};

/**
 * 422 for a verified event PostgreSQL cannot store. The Action Log row is one insert outside any
 * other work; if even that fails the answer is still 422 (the marketplace's retry logs it then).
 */
async function refuseUnstorable(
  db: Database,
  input: { tenantId: string; installationId: string; marketplaceId: string; webhookId: string; problem: StorableProblem; value?: unknown },
): Promise<WebhookResponse> {
  const event = input.value && typeof input.value === "object" && !Array.isArray(input.value) ? (input.value as { type?: unknown; data?: Record<string, unknown> }) : undefined;
  const eventType = typeof event?.type === "string" ? event.type : undefined;
  const which = eventType ? RECORD_OF[eventType.split(".")[0]!] : undefined;
  const record = which && event?.data && typeof event.data === "object" ? (event.data[which.key] as Record<string, unknown> | undefined) : undefined;
  const kind: RejectedKind = which && record && typeof record === "object" ? which.kind : "event";
  const id = kind === "event" ? null : recordLabel(record?.id);
  try {
    await logRejectedRecord(db, {
      tenantId: input.tenantId,
      actor: marketplaceActor(input.marketplaceId),
      record: { kind, id, updated: kind === "event" ? null : recordLabel(record?.updated), problem: input.problem },
      source: "push",
      webhookId: input.webhookId,
      dedupeKey: `push:${input.installationId}:${input.webhookId}`,
      eventType,
    });
  } catch (e) {
    console.error(`[webhooks] could not log a refused event: ${storableText((e as Error).message).slice(0, 300)}`);
  }
  return {
    status: 422,
    body: {
      error: input.problem.kind === "too_deep" ? "too_deeply_nested" : "unstorable_text",
      message: `${input.problem.message}; nothing was recorded. Correct the ${kind === "event" ? "record" : kind} in the marketplace.`,
      path: input.problem.path,
    },
  };
}

/** 410 Gone: Standard Webhooks' "stop sending" (after the signature, so only the marketplace learns it). */
function gone(uninstalledAt: Date): WebhookResponse {
  return problem(410, "uninstalled", `This installation was uninstalled on ${uninstalledAt.toISOString().slice(0, 10)}: its events are no longer accepted. Nothing was recorded.`);
}

/** The checks that depend on the installation, in the documented order: secret, webhook-id, signature, uninstalled. */
function authenticate(row: KnownInstallation, text: string, headers: Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>): WebhookResponse | undefined {
  if (!row.secret) return problem(401, "no_webhook_secret", "This installation has no webhook secret yet, so no event can be verified.");
  if (headers["webhook-id"].length > MAX_WEBHOOK_ID_LENGTH) {
    return problem(400, "invalid_webhook_id", `The webhook-id header is longer than ${MAX_WEBHOOK_ID_LENGTH} characters. Nothing was recorded.`);
  }
  const verdict = verifySignature(row.secret, text, headers);
  if (verdict) return problem(401, "invalid_signature", verdict);
  if (row.installation.uninstalledAt) return gone(row.installation.uninstalledAt);
  return undefined;
}

/** undefined when valid, else why not (in words for the sender's logs). */
function verifySignature(secret: string, text: string, headers: Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>): string | undefined {
  if (!headers["webhook-id"] || !headers["webhook-timestamp"] || !headers["webhook-signature"]) {
    return "Missing webhook-id, webhook-timestamp or webhook-signature header.";
  }
  const ts = Number(headers["webhook-timestamp"]);
  if (!/^\d+$/.test(headers["webhook-timestamp"]) || Math.abs(Date.now() / 1000 - ts) > WEBHOOK_TOLERANCE_SECONDS) {
    return "webhook-timestamp is not within 5 minutes of now (stale or replayed delivery).";
  }
  try {
    new Webhook(secret).verify(text, headers);
    return undefined;
  } catch (e) {
    if (e instanceof WebhookVerificationError) return `Signature check failed: ${e.message}.`;
    // verify() parses the body after the signature matched: a JSON error means the signature is good
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export const MARKETPLACE_ACTOR_FALLBACK: Actor = { type: "marketplace", label: "Marketplace" };

export type ProcessInboxResult = {
  webhookId: string;
  installationId: string;
  type: string;
  /** `failed`: a permanent problem with this row (its data); the row is closed with its error and logged, never retried */
  outcome: "processed" | "already_processed" | "missing" | "failed";
  tenantId?: string;
  task?: { taskId: string; outcome: string; state: string };
};

/**
 * Apply one inbox row — keyed by (installation, webhook-id) — exactly once: customers and products
 * upserted, orders recorded as tasks (same function as Check Changes, `source: "push"`). The row is
 * locked, applied and marked `processed_at` in one transaction.
 *
 * A failure never holds up the tenant's other events: a permanent one (the stored event does not
 * parse, or PostgreSQL refuses its data: SQLSTATE class 22) closes the row (`processed_at` and
 * `error`) with an Action Log row in one transaction and returns `failed`; anything else (connection
 * lost, lock timeout) records `error` and is thrown, so the runner retries this row only.
 */
export async function processInboxEvent(db: Database, installationId: string, webhookId: string): Promise<ProcessInboxResult> {
  const thisRow = and(eq(inboxEvents.installationId, installationId), eq(inboxEvents.webhookId, webhookId));
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx.select().from(inboxEvents).where(thisRow).for("update");
      if (!row) return { webhookId, installationId, type: "", outcome: "missing" as const };
      if (row.processedAt) return { webhookId, installationId, type: row.type, outcome: "already_processed" as const };
      const event: WebhookEvent = webhookEventSchema.parse(row.payload);
      const [inst] = await tx.select({ marketplaceId: installations.marketplaceId, uninstalledAt: installations.uninstalledAt }).from(installations).where(eq(installations.id, row.installationId));
      const actor = marketplaceActor(inst?.marketplaceId);
      let task: ProcessInboxResult["task"];
      // accepted before the uninstall was applied: not applied any more (the tenant's data only waits for its purge)
      const skip = Boolean(inst?.uninstalledAt) && event.type !== "installation.uninstalled";
      if (!skip) switch (event.type) {
        case "installation.uninstalled":
          await uninstallInstallation(tx, { installationId: row.installationId, actor, retentionDays: getConfig().tenantDataRetentionDays });
          break;
        case "order.created":
        case "order.updated":
          task = await recordOrder(tx, { tenantId: row.tenantId, order: event.data.request, source: "push", actor });
          break;
        case "customer.created":
        case "customer.updated": {
          await upsertMarketplaceCustomer(tx, row.tenantId, event.data.customer);
          if ((await getSettings(tx, row.tenantId)).notifications === "all_tasks") {
            await writeActionLog(tx, { tenantId: row.tenantId, actor, level: "info", category: "mapping", message: `Marketplace customer ${event.data.customer.name} (${event.data.customer.id}) ${event.type === "customer.created" ? "added" : "updated"}`, details: { webhookId } });
          }
          break;
        }
        case "product.created":
        case "product.updated": {
          await upsertMarketplaceProduct(tx, row.tenantId, event.data.product);
          if ((await getSettings(tx, row.tenantId)).notifications === "all_tasks") {
            await writeActionLog(tx, { tenantId: row.tenantId, actor, level: "info", category: "mapping", message: `Marketplace product ${event.data.product.name} (${event.data.product.mpn}) ${event.type === "product.created" ? "added" : "updated"}`, details: { webhookId } });
          }
          break;
        }
      }
      await tx.update(inboxEvents).set({ processedAt: new Date(), error: skip ? "not applied: the installation is uninstalled" : null }).where(and(thisRow, isNull(inboxEvents.processedAt)));
      return { webhookId, installationId, type: row.type, outcome: "processed" as const, tenantId: row.tenantId, ...(task ? { task } : {}) };
    });
  } catch (e) {
    const message = storableText(e instanceof Error ? errorText(e) : String(e)).slice(0, 2000);
    if (isPermanent(e)) {
      const closed = await db.transaction(async (tx) => {
        const [row] = await tx.update(inboxEvents).set({ processedAt: new Date(), error: message }).where(and(thisRow, isNull(inboxEvents.processedAt))).returning();
        if (!row) return null;
        const [inst] = await tx.select({ marketplaceId: installations.marketplaceId }).from(installations).where(eq(installations.id, row.installationId));
        await writeActionLog(tx, {
          tenantId: row.tenantId,
          actor: marketplaceActor(inst?.marketplaceId),
          level: "error",
          category: "sync",
          message: `A marketplace ${row.type} event could not be applied and was set aside (${message.slice(0, 300)}). The other events were not held up; if the record matters, change it in the marketplace so it is sent again, or use Check Changes.`,
          details: { webhookId, installationId, eventType: row.type },
        });
        return row;
      });
      if (closed) return { webhookId, installationId, type: closed.type, outcome: "failed", tenantId: closed.tenantId };
    }
    await db.update(inboxEvents).set({ error: message }).where(thisRow).catch(() => {});
    throw e;
  }
}

/** The message of an error and of its causes (drizzle wraps the driver's error). */
function errorText(e: Error): string {
  const cause = e.cause instanceof Error ? e.cause.message : "";
  const first = e.message.split("\n")[0] ?? e.message;
  return cause && !first.includes(cause) ? `${first}: ${cause}` : first;
}
