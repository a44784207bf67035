import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { orderWatermarks, tenants } from "@/db/schema";
import { findInstallation } from "@/lib/install/install";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { getSettings } from "@/lib/settings/settings";
import { recordOrder } from "@/lib/tasks/record-order";
import type { MarketplaceRequestDto } from "./api-schemas";
import { MarketplaceApiError, MarketplaceClient } from "./client";
import { registerMarketplaceWebhooks } from "./registration";

/**
 * Pull side of the order source — "Check Changes": read the orders updated since the installation's
 * watermark (first check: one month back from now), record each exactly as push does
 * (`recordOrder`, `source: "pull"`), then move the watermark to the newest `updated` seen. The
 * re-read is inclusive (`updated_since` ≥ watermark): the order at the watermark comes again and is
 * simply "already known". The watermark never moves backwards and, when the marketplace fails
 * halfway, keeps what was read (orders arrive sorted by `updated`). Also retries the webhook
 * registration while the installation has no signing secret yet.
 */

export type OrderSource = { orders(accountId: string, updatedSince?: Date): AsyncIterable<MarketplaceRequestDto> };

export type CheckChangesResult = {
  ok: boolean;
  message: string;
  newTasks: number;
  alreadyKnown: number;
  refreshed: number;
  ordersRead: number;
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

export function summarize(r: Pick<CheckChangesResult, "newTasks" | "alreadyKnown" | "refreshed">) {
  const parts = [`${plural(r.newTasks, "new task")}`, `${r.alreadyKnown} already known`];
  if (r.refreshed > 0) parts.push(`${r.refreshed} updated`);
  return parts.join(", ");
}

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

  const counts = { newTasks: 0, alreadyKnown: 0, refreshed: 0, ordersRead: 0 };
  let newest = since;
  let failure: string | undefined;
  const { notifications } = await getSettings(db, input.tenantId);
  // orders are recorded in batches, one transaction each (task + customer + log rows commit together)
  let batch: MarketplaceRequestDto[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const orders = batch;
    batch = [];
    const outcomes = await db.transaction(async (tx) => {
      const out = [];
      const customersDone = new Set<string>();
      for (const order of orders) out.push(await recordOrder(tx, { tenantId: input.tenantId, order, source: "pull", actor: input.actor, notifications, customersDone }));
      return out;
    });
    for (const [n, result] of outcomes.entries()) {
      counts.ordersRead += 1;
      if (result.outcome === "created") counts.newTasks += 1;
      else if (result.outcome === "refreshed") counts.refreshed += 1;
      else counts.alreadyKnown += 1;
      const order = orders[n]!;
      const updated = new Date(order.updated ?? order.created);
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
