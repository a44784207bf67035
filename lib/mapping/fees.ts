import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "@/db/client";
import { FEE_KINDS, feeMappings, marketplaceProducts, sageItems } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { activeConnection, lockTenantMappings, requireActiveConnection } from "./common";
import { describeSageItem, requireCachedSageItem } from "./sage-cache";

export type FeeKind = (typeof FEE_KINDS)[number];
export const FEE_LABELS: Record<FeeKind, string> = { cancellation: "Cancellation fee" };

export const mapFeeInputSchema = z.object({
  feeKind: z.enum(FEE_KINDS, { message: "Unknown fee" }),
  sageItemId: z.string().trim().min(1, "Choose a Sage item."),
});
export const unmapFeeInputSchema = z.object({ feeKind: z.enum(FEE_KINDS, { message: "Unknown fee" }) });

export type FeeOverview = {
  feeKind: FeeKind;
  label: string;
  /** the marketplace's fee products of this kind (what orders carry as a fee line) */
  marketplaceProducts: { id: string; mpn: string; name: string; unitPrice: string | null; currency: string | null }[];
  mapping: { sageItemId: string; sageItemType: "product" | "service"; sageItemName: string; itemExists: boolean; /** only when set: the item is missing from Sage 50's latest Products file */ deletedInSage?: true } | null;
};

/** The Fees Mapping pane: each fee kind, the marketplace fee products of that kind, and its Sage item. */
export async function listFeeMappings(q: Queryable, tenantId: string): Promise<FeeOverview[]> {
  const connection = await activeConnection(q, tenantId);
  const mappings = await q
    .select({ feeKind: feeMappings.feeKind, sageItemId: feeMappings.sageItemId, sageItemType: feeMappings.sageItemType, sageItemName: feeMappings.sageItemName, cached: sageItems.id, deletedInSageAt: sageItems.deletedInSageAt })
    .from(feeMappings)
    .leftJoin(sageItems, and(eq(sageItems.connectionId, connection?.id ?? sql`null::uuid`), eq(sageItems.sageId, feeMappings.sageItemId)))
    .where(eq(feeMappings.tenantId, tenantId));
  const fees = await q
    .select({ id: marketplaceProducts.id, mpn: marketplaceProducts.mpn, name: marketplaceProducts.name, unitPrice: marketplaceProducts.unitPrice, currency: marketplaceProducts.currency, feeKind: sql<string | null>`${marketplaceProducts.raw}->>'fee_kind'` })
    .from(marketplaceProducts)
    .where(and(eq(marketplaceProducts.tenantId, tenantId), eq(marketplaceProducts.kind, "fee")))
    .orderBy(asc(marketplaceProducts.name))
    .limit(200);
  return FEE_KINDS.map((feeKind) => {
    const m = mappings.find((r) => r.feeKind === feeKind);
    return {
      feeKind,
      label: FEE_LABELS[feeKind],
      // a fee product without fee_kind is taken as a cancellation fee (the only kind the marketplace has)
      marketplaceProducts: fees.filter((f) => (f.feeKind ?? "cancellation") === feeKind).map(({ feeKind: _k, ...f }) => f),
      mapping: m ? { sageItemId: m.sageItemId, sageItemType: m.sageItemType, sageItemName: m.sageItemName, itemExists: m.cached !== null, ...(m.deletedInSageAt ? { deletedInSage: true as const } : {}) } : null,
    };
  });
}

/**
 * The fee kind a marketplace fee product stands for (its `fee_kind`); a fee product without one is
 * taken as a cancellation fee (the only kind the marketplace has). Null: a kind we do not map.
 */
export function feeKindOfProduct(rawFeeKind: string | null | undefined): FeeKind | null {
  const kind = rawFeeKind ?? "cancellation";
  return (FEE_KINDS as readonly string[]).includes(kind) ? (kind as FeeKind) : null;
}

/** Map a fee (e.g. the cancellation fee) to a cached Sage item, with its log row. */
export async function mapFee(db: Database, input: { tenantId: string; feeKind: FeeKind; sageItemId: string; actor: Actor }) {
  return db.transaction(async (tx) => mapFeeInTx(tx, input));
}

/**
 * Map a fee inside the caller's transaction (the Fees pane's data and what the sync invoices fees
 * as). With `requestId` (a queued "Add to Sage" request) the outcome row is written even when
 * nothing changed, since the UI waits for it; `message` replaces the default log message.
 */
export async function mapFeeInTx(
  tx: Queryable,
  input: { tenantId: string; feeKind: FeeKind; sageItemId: string; actor: Actor; requestId?: string; via?: string; message?: string; productId?: string },
) {
  await lockTenantMappings(tx, input.tenantId);
  const connection = await requireActiveConnection(tx, input.tenantId);
  const item = await requireCachedSageItem(tx, connection.id, input.sageItemId);
  const [before] = await tx.select().from(feeMappings).where(and(eq(feeMappings.tenantId, input.tenantId), eq(feeMappings.feeKind, input.feeKind)));
  const changed = before?.sageItemId !== item.sageId;
  if (!changed && !input.requestId) return { changed: false };
  if (changed) {
    const now = new Date();
    await tx
      .insert(feeMappings)
      .values({ tenantId: input.tenantId, feeKind: input.feeKind, sageItemId: item.sageId, sageItemType: item.type, sageItemName: item.description, mappedAt: now })
      .onConflictDoUpdate({ target: [feeMappings.tenantId, feeMappings.feeKind], set: { sageItemId: item.sageId, sageItemType: item.type, sageItemName: item.description, mappedAt: now } });
  }
  await writeActionLog(tx, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "success",
    category: "mapping",
    message: input.message ?? `Fee mapped: ${FEE_LABELS[input.feeKind]} → ${describeSageItem(item)}${before ? ` (was “${before.sageItemName}”)` : ""}`,
    details: {
      op: "fee_map",
      via: input.via ?? "manual",
      requestId: input.requestId,
      productId: input.productId,
      feeKind: input.feeKind,
      sageItemId: item.sageId,
      previousSageItemId: before?.sageItemId ?? null,
    },
  });
  return { changed };
}

export async function unmapFee(db: Database, input: { tenantId: string; feeKind: FeeKind; actor: Actor }) {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const [removed] = await tx.delete(feeMappings).where(and(eq(feeMappings.tenantId, input.tenantId), eq(feeMappings.feeKind, input.feeKind))).returning();
    if (!removed) return { changed: false };
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "mapping",
      message: `Fee unmapped: ${FEE_LABELS[input.feeKind]} (was “${removed.sageItemName}”)`,
      details: { op: "fee_unmap", feeKind: input.feeKind, previousSageItemId: removed.sageItemId },
    });
    return { changed: true };
  });
}
