import { and, count, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "@/db/client";
import { actionLog, marketplaceCustomers, marketplaceProducts, sageContacts, sageItems } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { activeConnection } from "./common";

/**
 * Work the Mapping screen queues (refreshes, "Add product to Sage", "Create contact in Sage") runs
 * in Inngest functions. Each queued request carries a `requestId`; the function writes exactly one
 * Action Log row with `details.requestId` when it is done (success or error). The UI polls for that
 * row: the Action Log is the record of what happened, so there is no second status table to keep
 * in step with it.
 */

export const REFRESH_OPS = { sage: "sage_refresh", marketplace: "marketplace_refresh" } as const;
export type RefreshSource = keyof typeof REFRESH_OPS;

export const requestIdsSchema = z
  .string()
  .transform((s) => s.split(",").filter(Boolean))
  .pipe(z.array(z.string().uuid("Unknown request id")).min(1, "Give at least one request id").max(200, "At most 200 request ids"));

export type RequestOutcome = { requestId: string; state: "pending" } | { requestId: string; state: "done"; ok: boolean; level: string; message: string; at: string };

/** Outcomes of queued requests (pending until their Action Log row exists). Looks back one day. */
export async function getRequestOutcomes(q: Queryable, tenantId: string, requestIds: string[]): Promise<RequestOutcome[]> {
  const rows = await q
    .select({ requestId: sql<string>`${actionLog.details}->>'requestId'`, level: actionLog.level, message: actionLog.message, at: actionLog.at })
    .from(actionLog)
    .where(
      and(
        eq(actionLog.tenantId, tenantId),
        gt(actionLog.at, sql`now() - interval '1 day'`),
        eq(actionLog.category, "mapping"),
        inArray(sql`${actionLog.details}->>'requestId'`, requestIds),
      ),
    )
    .orderBy(desc(actionLog.at), desc(actionLog.id));
  return requestIds.map((requestId) => {
    const row = rows.find((r) => r.requestId === requestId);
    if (!row) return { requestId, state: "pending" as const };
    return { requestId, state: "done" as const, ok: row.level !== "error" && row.level !== "action_required", level: row.level, message: row.message, at: row.at.toISOString() };
  });
}

/** The failure row of a queued request that gave up (written by the function's failure handler). */
export async function recordRequestFailure(q: Queryable, input: { tenantId: string; actor: Actor; requestId: string; what: string; message: string; details?: Record<string, unknown> }) {
  await writeActionLog(q, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "error",
    category: "mapping",
    message: `${input.what} failed: ${input.message}`,
    details: { ...input.details, requestId: input.requestId },
  });
}

async function lastRefresh(q: Queryable, tenantId: string, source: RefreshSource) {
  const [row] = await q
    .select({ at: actionLog.at, level: actionLog.level, message: actionLog.message })
    .from(actionLog)
    .where(and(eq(actionLog.tenantId, tenantId), eq(actionLog.category, "mapping"), sql`${actionLog.details}->>'op' = ${REFRESH_OPS[source]}`))
    .orderBy(desc(actionLog.at), desc(actionLog.id))
    .limit(1);
  return row ? { at: row.at.toISOString(), ok: row.level !== "error", message: row.message } : null;
}

export type MappingStatus = {
  connection: { name: string; businessName: string | null; status: string } | null;
  sage: { lastRefresh: Awaited<ReturnType<typeof lastRefresh>>; items: number; contacts: number };
  marketplace: { lastRefresh: Awaited<ReturnType<typeof lastRefresh>>; products: number; customers: number };
  /** nothing was ever pulled: the screen starts both refreshes on the first visit */
  needsInitialRefresh: { sage: boolean; marketplace: boolean };
};

export async function getMappingStatus(q: Queryable, tenantId: string): Promise<MappingStatus> {
  const connection = await activeConnection(q, tenantId);
  const [items, contacts] = connection
    ? await Promise.all([
        // what Sage has now: rows flagged deleted in Sage 50 (kept for their mappings) are not counted
        q.select({ n: count() }).from(sageItems).where(and(eq(sageItems.connectionId, connection.id), isNull(sageItems.deletedInSageAt))),
        q.select({ n: count() }).from(sageContacts).where(and(eq(sageContacts.connectionId, connection.id), isNull(sageContacts.deletedInSageAt))),
      ])
    : [[{ n: 0 }], [{ n: 0 }]];
  const [products] = await q.select({ n: count() }).from(marketplaceProducts).where(eq(marketplaceProducts.tenantId, tenantId));
  const [customers] = await q.select({ n: count() }).from(marketplaceCustomers).where(eq(marketplaceCustomers.tenantId, tenantId));
  const sage = { lastRefresh: connection ? await lastRefresh(q, tenantId, "sage") : null, items: items[0]?.n ?? 0, contacts: contacts[0]?.n ?? 0 };
  const marketplace = { lastRefresh: await lastRefresh(q, tenantId, "marketplace"), products: products?.n ?? 0, customers: customers?.n ?? 0 };
  return {
    connection: connection ? { name: connection.name, businessName: connection.businessName, status: connection.status } : null,
    sage,
    marketplace,
    needsInitialRefresh: {
      sage: !!connection && connection.status === "connected" && sage.items + sage.contacts === 0 && !sage.lastRefresh,
      marketplace: marketplace.products + marketplace.customers === 0 && !marketplace.lastRefresh,
    },
  };
}
