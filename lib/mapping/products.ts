import { and, asc, count, eq, ilike, inArray, isNull, ne, notInArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "@/db/client";
import { marketplaceProducts, productMappings, sageItems, type SageItemRow } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { getSettings } from "@/lib/settings/settings";
import { activeConnection, chunk, likePattern, listNames, lockTenantMappings, mappingListQueryShape, MappingError, normalizeKey, NOTHING_SAVED, requireActiveConnection } from "./common";
import { describeSageItem, requireCachedSageItem } from "./sage-cache";

// ---------------------------------------------------------------------------------------------------
// Listing (server-side filter and paging)

/** Query parameters of the product list (GET /api/mapping/products). */
export const productListQuerySchema = z.object({
  ...mappingListQueryShape,
  kind: z.enum(["item", "fee"], { message: "kind must be item or fee" }).default("item"),
});
export type ProductListQuery = z.infer<typeof productListQuerySchema>;

export type ProductRow = {
  id: string;
  marketplaceProductId: string;
  mpn: string;
  name: string;
  unitPrice: string | null;
  currency: string | null;
  billingPeriod: string | null;
  kind: "item" | "fee";
  mapping: {
    sageItemId: string;
    sageItemType: "product" | "service";
    sageItemCode: string | null;
    sageItemName: string;
    /** false when the last refresh from Sage did not find the item any more */
    itemExists: boolean;
    /** Sage 50 Cloud: the item is missing from the latest Products file (kept, flagged, never offered for new mappings) */
    deletedInSage: boolean;
  } | null;
};

export type ProductPage = { rows: ProductRow[]; total: number; offset: number; limit: number };

function productFilter(tenantId: string, query: Pick<ProductListQuery, "search" | "unmapped" | "kind">) {
  const pattern = query.search ? likePattern(query.search) : null;
  return and(
    eq(marketplaceProducts.tenantId, tenantId),
    eq(marketplaceProducts.kind, query.kind),
    query.unmapped ? isNull(productMappings.id) : undefined,
    // one ILIKE over name and MPN together: half the per-row work of two
    pattern ? ilike(sql`${marketplaceProducts.name} || ' ' || ${marketplaceProducts.mpn}`, pattern) : undefined,
  );
}

/**
 * One page of the reseller's marketplace products with their mapping, filtered in the database
 * (search in name or MPN, "show only unmapped"), ordered by name.
 */
export async function listProducts(q: Queryable, tenantId: string, query: ProductListQuery): Promise<ProductPage> {
  const connection = await activeConnection(q, tenantId);
  const where = productFilter(tenantId, query);
  const rows = await q
    .select({
      id: marketplaceProducts.id,
      marketplaceProductId: marketplaceProducts.marketplaceProductId,
      mpn: marketplaceProducts.mpn,
      name: marketplaceProducts.name,
      unitPrice: marketplaceProducts.unitPrice,
      currency: marketplaceProducts.currency,
      billingPeriod: marketplaceProducts.billingPeriod,
      kind: marketplaceProducts.kind,
      sageItemId: productMappings.sageItemId,
      sageItemType: productMappings.sageItemType,
      sageItemCode: productMappings.sageItemCode,
      sageItemName: productMappings.sageItemName,
      cachedItemId: sageItems.id,
      deletedInSageAt: sageItems.deletedInSageAt,
      // a search scans every row anyway: count them in the same pass. Without one, the page comes
      // from the (tenant, name) index and a separate count is cheaper than a full sort.
      total: query.search ? sql<number>`(count(*) over ())::int` : sql<null>`null::int`,
    })
    .from(marketplaceProducts)
    .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
    .leftJoin(sageItems, and(eq(sageItems.connectionId, connection?.id ?? sql`null::uuid`), eq(sageItems.sageId, productMappings.sageItemId)))
    .where(where)
    .orderBy(asc(marketplaceProducts.name), asc(marketplaceProducts.id))
    .limit(query.limit)
    .offset(query.offset);
  const total =
    rows[0]?.total ??
    (query.offset === 0 && rows.length < query.limit
      ? rows.length
      : ((
          await q
            .select({ n: count() })
            .from(marketplaceProducts)
            .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
            .where(where)
        )[0]?.n ?? 0));
  return {
    total,
    offset: query.offset,
    limit: query.limit,
    rows: rows.map((r) => ({
      id: r.id,
      marketplaceProductId: r.marketplaceProductId,
      mpn: r.mpn,
      name: r.name,
      unitPrice: r.unitPrice,
      currency: r.currency,
      billingPeriod: r.billingPeriod,
      kind: r.kind,
      mapping: r.sageItemId
        ? { sageItemId: r.sageItemId, sageItemType: r.sageItemType!, sageItemCode: r.sageItemCode, sageItemName: r.sageItemName!, itemExists: r.cachedItemId !== null, deletedInSage: r.deletedInSageAt !== null }
        : null,
    })),
  };
}

export async function productCounts(q: Queryable, tenantId: string) {
  const [row] = await q
    .select({ total: count(), mapped: count(productMappings.id) })
    .from(marketplaceProducts)
    .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
    .where(and(eq(marketplaceProducts.tenantId, tenantId), eq(marketplaceProducts.kind, "item")));
  return { total: row?.total ?? 0, mapped: row?.mapped ?? 0, unmapped: (row?.total ?? 0) - (row?.mapped ?? 0) };
}

// ---------------------------------------------------------------------------------------------------
// Map / unmap

export const mapProductsInputSchema = z.object({
  productIds: z.array(z.string().uuid("Unknown product id")).min(1, "Select at least one product.").max(10_000),
  sageItemId: z.string().trim().min(1, "Choose a Sage item."),
});

const productLabel = (p: { name: string; mpn: string }) => `${p.name} (${p.mpn})`;

/**
 * The many → one rule, checked on the server inside the mapping transaction: unless the tenant
 * allows many marketplace products → one Sage item, an item maps at most one product.
 */
async function assertItemFree(tx: Queryable, tenantId: string, item: SageItemRow, productIds: string[]) {
  const settings = await getSettings(tx, tenantId);
  if (settings.allowManyProductsToOneItem) return;
  if (productIds.length > 1) {
    throw new MappingError(
      "many_to_one",
      `${productIds.length} marketplace products cannot all be mapped to ${describeSageItem(item)}: mapping many marketplace products to one Sage item is off in Settings. Turn on “Allow many marketplace products → one Sage item”, or map them one by one to different items. ${NOTHING_SAVED}`,
    );
  }
  const others = await tx
    .select({ name: marketplaceProducts.name, mpn: marketplaceProducts.mpn })
    .from(productMappings)
    .innerJoin(marketplaceProducts, eq(marketplaceProducts.id, productMappings.productId))
    .where(and(eq(productMappings.tenantId, tenantId), eq(productMappings.sageItemId, item.sageId), notInArray(productMappings.productId, productIds)))
    .limit(3);
  if (others.length > 0) {
    throw new MappingError(
      "many_to_one",
      `${describeSageItem(item)} is already mapped to ${listNames(others.map(productLabel))}, and mapping many marketplace products to one Sage item is off in Settings. Unmap it first, choose another item, or turn on “Allow many marketplace products → one Sage item”. ${NOTHING_SAVED}`,
    );
  }
}

/** Map one or more marketplace products to a Sage item (from the cache), in one transaction with its log row. */
export async function mapProducts(db: Database, input: { tenantId: string; productIds: string[]; sageItemId: string; actor: Actor; via?: string }) {
  const productIds = [...new Set(input.productIds)];
  return db.transaction(async (tx) => mapProductsInTx(tx, { ...input, productIds }));
}

export async function mapProductsInTx(
  tx: Queryable,
  input: { tenantId: string; productIds: string[]; sageItemId: string; actor: Actor; via?: string; requestId?: string; message?: string },
) {
  await lockTenantMappings(tx, input.tenantId);
  const connection = await requireActiveConnection(tx, input.tenantId);
  const item = await requireCachedSageItem(tx, connection.id, input.sageItemId);
  const products = await tx
    .select({ id: marketplaceProducts.id, name: marketplaceProducts.name, mpn: marketplaceProducts.mpn, kind: marketplaceProducts.kind, previous: productMappings.sageItemName, previousId: productMappings.sageItemId })
    .from(marketplaceProducts)
    .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
    .where(and(eq(marketplaceProducts.tenantId, input.tenantId), inArray(marketplaceProducts.id, input.productIds)));
  if (products.length !== input.productIds.length) throw new MappingError("not_found", `Some of the selected products do not exist (refresh the page). ${NOTHING_SAVED}`);
  await assertItemFree(tx, input.tenantId, item, input.productIds);
  const changed = products.filter((p) => p.previousId !== item.sageId);
  const now = new Date();
  for (const part of chunk(changed, 1000)) {
    await tx
      .insert(productMappings)
      .values(part.map((p) => ({ tenantId: input.tenantId, productId: p.id, sageItemId: item.sageId, sageItemType: item.type, sageItemCode: item.itemCode, sageItemName: item.description, mappedAt: now })))
      .onConflictDoUpdate({
        target: [productMappings.tenantId, productMappings.productId],
        set: { sageItemId: item.sageId, sageItemType: item.type, sageItemCode: item.itemCode, sageItemName: item.description, mappedAt: now },
      });
  }
  // a queued request always gets its outcome row (the UI waits for it), even when nothing changed
  if (changed.length > 0 || input.requestId) {
    const only = changed.length === 1 ? changed[0]! : null;
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "success",
      category: "mapping",
      message: input.message ?? (only
        ? `Product mapped: ${productLabel(only)} → ${describeSageItem(item)}${only.previous ? ` (was “${only.previous}”)` : ""}`
        : `${changed.length} products mapped to ${describeSageItem(item)}: ${listNames(changed.map(productLabel))}`),
      details: {
        op: "product_map",
        via: input.via ?? "manual",
        requestId: input.requestId,
        sageItemId: item.sageId,
        sageItemType: item.type,
        products: changed.slice(0, 500).map((p) => ({ id: p.id, mpn: p.mpn, previousSageItemId: p.previousId })),
      },
    });
  }
  return { mapped: changed.length, unchanged: products.length - changed.length, item: { sageId: item.sageId, type: item.type, itemCode: item.itemCode, description: item.description } };
}

export const unmapProductsInputSchema = z.object({
  productIds: z.array(z.string().uuid("Unknown product id")).min(1, "Select at least one product.").max(10_000),
});

export async function unmapProducts(db: Database, input: { tenantId: string; productIds: string[]; actor: Actor }) {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const removed = await tx
      .delete(productMappings)
      .where(and(eq(productMappings.tenantId, input.tenantId), inArray(productMappings.productId, [...new Set(input.productIds)])))
      .returning({ productId: productMappings.productId, sageItemId: productMappings.sageItemId, sageItemName: productMappings.sageItemName });
    if (removed.length === 0) return { unmapped: 0 };
    const products = await tx
      .select({ id: marketplaceProducts.id, name: marketplaceProducts.name, mpn: marketplaceProducts.mpn })
      .from(marketplaceProducts)
      .where(inArray(marketplaceProducts.id, removed.map((r) => r.productId)));
    const byId = new Map(products.map((p) => [p.id, p]));
    const first = removed[0]!;
    const firstProduct = byId.get(first.productId);
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "mapping",
      message:
        removed.length === 1 && firstProduct
          ? `Product unmapped: ${productLabel(firstProduct)} (was “${first.sageItemName}”)`
          : `${removed.length} products unmapped: ${listNames(removed.map((r) => (byId.get(r.productId) ? productLabel(byId.get(r.productId)!) : r.productId)))}`,
      details: { op: "product_unmap", products: removed.slice(0, 500).map((r) => ({ id: r.productId, previousSageItemId: r.sageItemId })) },
    });
    return { unmapped: removed.length };
  });
}

// ---------------------------------------------------------------------------------------------------
// Auto-match

export const autoMatchProductsInputSchema = z.object({
  /** restrict to these products; default: every unmapped product */
  productIds: z.array(z.string().uuid("Unknown product id")).max(10_000).optional(),
});

export type ProductAutoMatchSummary = {
  considered: number;
  matched: number;
  byMpn: number;
  byName: number;
  noMatch: number;
  ambiguous: number;
  itemAlreadyMapped: number;
  matches: { productId: string; mpn: string; name: string; sageItemId: string; sageItemLabel: string; by: "mpn" | "name" }[];
  message: string;
};

/**
 * Auto-match unmapped marketplace products to cached Sage items: MPN = item code first, then
 * name = description (both case-insensitive). A product with several equally good candidates is
 * left alone (ambiguous); with many → one off, an item already used is not used again.
 */
export async function autoMatchProducts(db: Database, input: { tenantId: string; actor: Actor; productIds?: string[] }): Promise<ProductAutoMatchSummary> {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const connection = await requireActiveConnection(tx, input.tenantId);
    const settings = await getSettings(tx, input.tenantId);
    const candidates = await tx
      .select({ id: marketplaceProducts.id, mpn: marketplaceProducts.mpn, name: marketplaceProducts.name })
      .from(marketplaceProducts)
      .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
      .where(
        and(
          eq(marketplaceProducts.tenantId, input.tenantId),
          eq(marketplaceProducts.kind, "item"),
          isNull(productMappings.id),
          input.productIds ? inArray(marketplaceProducts.id, input.productIds.length ? input.productIds : ["00000000-0000-0000-0000-000000000000"]) : undefined,
        ),
      )
      .orderBy(asc(marketplaceProducts.name), asc(marketplaceProducts.id));
    // an item deleted in Sage 50 (flagged by the last file) is never matched to
    const items = await tx.select().from(sageItems).where(and(eq(sageItems.connectionId, connection.id), isNull(sageItems.deletedInSageAt)));
    const byCode = new Map<string, SageItemRow[]>();
    const byName = new Map<string, SageItemRow[]>();
    for (const item of items) {
      if (item.itemCode) byCode.set(normalizeKey(item.itemCode), [...(byCode.get(normalizeKey(item.itemCode)) ?? []), item]);
      byName.set(normalizeKey(item.description), [...(byName.get(normalizeKey(item.description)) ?? []), item]);
    }
    const used = new Set<string>();
    if (!settings.allowManyProductsToOneItem) {
      const rows = await tx.selectDistinct({ id: productMappings.sageItemId }).from(productMappings).where(eq(productMappings.tenantId, input.tenantId));
      for (const r of rows) used.add(r.id);
    }
    const summary: ProductAutoMatchSummary = { considered: candidates.length, matched: 0, byMpn: 0, byName: 0, noMatch: 0, ambiguous: 0, itemAlreadyMapped: 0, matches: [], message: "" };
    const picks: { product: (typeof candidates)[number]; item: SageItemRow; by: "mpn" | "name" }[] = [];
    for (const product of candidates) {
      const byMpn = byCode.get(normalizeKey(product.mpn)) ?? [];
      const named = byName.get(normalizeKey(product.name)) ?? [];
      const [found, by] = byMpn.length > 0 ? [byMpn, "mpn" as const] : [named, "name" as const];
      if (found.length === 0) {
        summary.noMatch++;
        continue;
      }
      if (found.length > 1) {
        summary.ambiguous++;
        continue;
      }
      const item = found[0]!;
      if (used.has(item.sageId)) {
        summary.itemAlreadyMapped++;
        continue;
      }
      if (!settings.allowManyProductsToOneItem) used.add(item.sageId);
      picks.push({ product, item, by });
    }
    const now = new Date();
    for (const part of chunk(picks, 1000)) {
      await tx
        .insert(productMappings)
        .values(part.map(({ product, item }) => ({ tenantId: input.tenantId, productId: product.id, sageItemId: item.sageId, sageItemType: item.type, sageItemCode: item.itemCode, sageItemName: item.description, mappedAt: now })))
        .onConflictDoNothing();
    }
    summary.matched = picks.length;
    summary.byMpn = picks.filter((p) => p.by === "mpn").length;
    summary.byName = picks.length - summary.byMpn;
    summary.matches = picks.slice(0, 200).map(({ product, item, by }) => ({ productId: product.id, mpn: product.mpn, name: product.name, sageItemId: item.sageId, sageItemLabel: describeSageItem(item), by }));
    const skipped = [
      summary.noMatch ? `${summary.noMatch} without a match` : null,
      summary.ambiguous ? `${summary.ambiguous} with several possible Sage items (map them by hand)` : null,
      summary.itemAlreadyMapped ? `${summary.itemAlreadyMapped} whose Sage item is already mapped to another product` : null,
    ].filter(Boolean);
    const anyProduct = candidates.length > 0 || (await tx.select({ id: marketplaceProducts.id }).from(marketplaceProducts).where(eq(marketplaceProducts.tenantId, input.tenantId)).limit(1)).length > 0;
    summary.message = !anyProduct
      ? "Auto-match: there are no marketplace products yet. Refresh from the marketplace first."
      : candidates.length === 0
        ? "Auto-match: every product is already mapped."
        : items.length === 0
          ? "Auto-match: there are no Sage items to match against yet. Refresh from Sage first."
          : `Auto-match: ${summary.matched} of ${candidates.length} unmapped products mapped (${summary.byMpn} by MPN = item code, ${summary.byName} by name = description)${skipped.length ? `; ${skipped.join("; ")}` : ""}.`;
    if (summary.matched > 0) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "success",
        category: "mapping",
        message: summary.message,
        details: { op: "product_auto_match", ...summary, message: undefined, matches: summary.matches.map((m) => ({ productId: m.productId, mpn: m.mpn, sageItemId: m.sageItemId, by: m.by })) },
      });
    }
    return summary;
  });
}

/** Product ids that exist for this tenant (used to validate bulk requests before queuing work). */
export async function existingProductIds(q: Queryable, tenantId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await q
    .select({ id: marketplaceProducts.id })
    .from(marketplaceProducts)
    .where(and(eq(marketplaceProducts.tenantId, tenantId), inArray(marketplaceProducts.id, ids), ne(marketplaceProducts.kind, "fee")));
  return rows.map((r) => r.id);
}
