import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { orderWatermarks, tenants } from "@/db/schema";
import { findInstallation } from "@/lib/install/install";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { getSettings } from "@/lib/settings/settings";
import { storableText } from "@/lib/http/storable-json";
import { recordOrder } from "@/lib/tasks/record-order";
import type { MarketplaceRequestDto } from "./api-schemas";
import { MarketplaceApiError, MarketplaceClient } from "./client";
import { registerMarketplaceWebhooks } from "./registration";
import { isPermanent, logRejectedRecord, recordLabel, type RejectedRecord } from "./rejected-record";

/**
 * Pull side of the order source — "Check Changes": read the orders updated since the installation's
 * watermark (first check: one month back from now), record each exactly as push does
 * (`recordOrder`, `source: "pull"`), then move the watermark to the newest `updated` seen. The
 * re-read is inclusive (`updated_since` ≥ watermark): the order at the watermark comes again and is
 * simply "already known". The watermark never moves backwards and, when the marketplace fails
 * halfway, keeps what was read (orders arrive sorted by `updated`). Also retries the webhook
 * registration while the installation has no signing secret yet.
 *
 * One bad order never blocks the tenant: an order the client refused (text PostgreSQL cannot store,
 * absurd nesting: a `RejectedRecord`) or one PostgreSQL refuses while it is recorded (a data error,
 * SQLSTATE class 22 — the batch is then recorded again order by order) is skipped with an
 * `action_required` Action Log row naming the order and the field, in the same transaction as the
 * rest of its batch; the watermark still moves past it. When the marketplace corrects the order its
 * `updated` changes, so a later check reads it again.
 */

export type OrderSource = { orders(accountId: string, updatedSince?: Date): AsyncIterable<MarketplaceRequestDto | RejectedRecord> };

export type CheckChangesResult = {
  ok: boolean;
  message: string;
  newTasks: number;
  alreadyKnown: number;
  refreshed: number;
  ordersRead: number;
  /** orders not recorded because their data cannot be stored (each one is in the Action Log) */
  skipped: number;
  since: string;
  watermark: string;
  /** set when the webhook registration was retried */
  webhooks?: { ok: boolean; message?: string };
};

export class CheckChangesError extends Error {}

const BATCH_SIZE = 100;

export function oneMonthBefore(now: Date): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d;
}

function plural(n: number, one: string, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function summarize(r: Pick<CheckChangesResult, "newTasks" | "alreadyKnown" | "refreshed"> & { skipped?: number }) {
  const parts = [`${plural(r.newTasks, "new task")}`, `${r.alreadyKnown} already known`];
  if (r.refreshed > 0) parts.push(`${r.refreshed} updated`);
  if ((r.skipped ?? 0) > 0) parts.push(`${r.skipped} skipped (see the Action Log: correct ${r.skipped === 1 ? "it" : "them"} in the marketplace)`);
  return parts.join(", ");
}

const isRejected = (item: MarketplaceRequestDto | RejectedRecord): item is RejectedRecord => (item as RejectedRecord).rejected === true;

export async function checkChanges(
  db: Database,
  input: { tenantId: string; actor: Actor; now?: Date; source?: OrderSource },
): Promise<CheckChangesResult> {
  const now = input.now ?? new Date();
  const installation = await findInstallation(db, input.tenantId);
  if (!installation) throw new CheckChangesError("Install Sage Integration from the marketplace first: there is no installation to read orders for.");
  const [tenant] = await db.select({ accountId: tenants.marketplaceAccountId }).from(tenants).where(eq(tenants.id, input.tenantId));
  if (!tenant) throw new CheckChangesError("Unknown reseller account.");

  // (re)connect marketplace events; also picks up a secret the marketplace rotated
  const registration = await registerMarketplaceWebhooks(db, installation.id, input.actor, { refresh: true });
  const webhooks = installation.webhookSecretEncrypted && registration.ok ? undefined : registration;

  const [mark] = await db.select().from(orderWatermarks).where(eq(orderWatermarks.installationId, installation.id));
  const since = mark?.watermark ?? oneMonthBefore(now);
  const source = input.source ?? MarketplaceClient.for(installation.marketplaceId);

  const counts = { newTasks: 0, alreadyKnown: 0, refreshed: 0, ordersRead: 0, skipped: 0 };
  let newest = since;
  let failure: string | undefined;
  const { notifications } = await getSettings(db, input.tenantId);
  type Item = MarketplaceRequestDto | RejectedRecord;
  type Outcome = { kind: "recorded"; outcome: string } | { kind: "skipped" };
  /** Record (or report) each item in one transaction: task + customer + log rows commit together. */
  const record = (items: Item[]) =>
    db.transaction(async (tx) => {
      const out: Outcome[] = [];
      const customersDone = new Set<string>();
      for (const item of items) {
        if (isRejected(item)) {
          await logRejectedRecord(tx, { tenantId: input.tenantId, actor: input.actor, record: item, source: "pull", dedupeKey: `pull:order:${item.id}:${item.updated}:${item.problem.path}` });
          out.push({ kind: "skipped" });
        } else {
          const result = await recordOrder(tx, { tenantId: input.tenantId, order: item, source: "pull", actor: input.actor, notifications, customersDone });
          out.push({ kind: "recorded", outcome: result.outcome });
        }
      }
      return out;
    });
  /** An order PostgreSQL refused while it was recorded: reported, never recorded, the others go on. */
  const refused = (order: MarketplaceRequestDto, e: unknown): RejectedRecord => ({
    rejected: true,
    kind: "order",
    id: recordLabel(order.id),
    updated: recordLabel(order.updated ?? order.created),
    problem: { kind: "refused", path: "$", message: `PostgreSQL refused its data (${storableText((e as Error).message.split("\n")[0] ?? "").slice(0, 200)})` },
  });
  // orders are recorded in batches, one transaction each
  let batch: Item[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    let outcomes: Outcome[];
    try {
      outcomes = await record(items);
    } catch (e) {
      if (!isPermanent(e)) throw e;
      // one order's data was refused: record the batch again one by one, so only that one is skipped
      outcomes = [];
      for (const item of items) {
        try {
          outcomes.push(...(await record([item])));
        } catch (err) {
          if (!isPermanent(err) || isRejected(item)) throw err;
          outcomes.push(...(await record([refused(item, err)])));
        }
      }
    }
    for (const [n, result] of outcomes.entries()) {
      counts.ordersRead += 1;
      if (result.kind === "skipped") counts.skipped += 1;
      else if (result.outcome === "created") counts.newTasks += 1;
      else if (result.outcome === "refreshed") counts.refreshed += 1;
      else counts.alreadyKnown += 1;
      const item = items[n]!;
      const updated = new Date((isRejected(item) ? item.updated : (item.updated ?? item.created)) ?? NaN);
      if (!Number.isNaN(updated.getTime()) && updated > newest) newest = updated;
    }
  };
  try {
    for await (const order of source.orders(tenant.accountId, since)) {
      batch.push(order);
      if (batch.length >= BATCH_SIZE) await flush();
    }
  } catch (e) {
    if (!(e instanceof MarketplaceApiError) && !(e instanceof Error && e.name === "ZodError")) throw e;
    failure = e instanceof MarketplaceApiError ? e.message : `the marketplace sent an order this app cannot read (${e.message.slice(0, 300)})`;
  }
  await flush();

  const summary = summarize(counts);
  const message = failure ? `Check Changes stopped: ${failure}. ${summary} before that.` : `Check Changes: ${summary}.`;
  const watermark = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(orderWatermarks)
      .values({ installationId: installation.id, tenantId: input.tenantId, watermark: newest, lastCheckedAt: now })
      .onConflictDoUpdate({
        target: orderWatermarks.installationId,
        set: { watermark: sql`greatest(${orderWatermarks.watermark}, excluded.watermark)`, lastCheckedAt: now },
      })
      .returning({ watermark: orderWatermarks.watermark });
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: failure ? "error" : "info",
      category: "sync",
      message,
      details: { ...counts, since: since.toISOString(), watermark: row!.watermark.toISOString(), firstCheck: !mark },
    });
    return row!.watermark;
  });

  return { ok: !failure, message, ...counts, since: since.toISOString(), watermark: watermark.toISOString(), ...(webhooks ? { webhooks } : {}) };
}
