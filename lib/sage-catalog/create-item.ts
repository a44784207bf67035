import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { feeMappings, marketplaceProducts, productMappings, sageItems } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { MappingError, normalizeKey, NOTHING_SAVED, requireActiveConnection } from "@/lib/mapping/common";
import { FEE_LABELS, feeKindOfProduct, mapFeeInTx, type FeeKind } from "@/lib/mapping/fees";
import { mapProductsInTx } from "@/lib/mapping/products";
import { describeSageItem } from "@/lib/mapping/sage-cache";
import { recordRequestFailure } from "@/lib/mapping/status";
import { SageError } from "@/lib/sage/errors";
import type { SageConnectionApi, SageItemRecord, SageItemType, SageRetryPolicy } from "@/lib/sage/target";
import { idempotencyIds } from "@/lib/sync/documents";
import { connectionTarget } from "@/lib/connections/sage-session";
import { catalogConnection, itemCacheValues, upsertCachedItems } from "./refresh";

export const SAGE_ITEM_TYPES_FOR_CREATE = ["service", "product"] as const;
export type SageItemTypeForCreate = (typeof SAGE_ITEM_TYPES_FOR_CREATE)[number];

export const addProductsToSageInputSchema = z.object({
  productIds: z.array(z.string().uuid("Unknown product id")).min(1, "Select at least one product.").max(200, "Add at most 200 products to Sage at a time."),
  type: z.enum(SAGE_ITEM_TYPES_FOR_CREATE, { message: "type must be service or product" }).default("service"),
});

/** Sage items (products and services) whose item code is exactly `code` (case-insensitive). */
export async function findSageItemsByCode(sage: SageConnectionApi, code: string): Promise<{ type: SageItemType; item: SageItemRecord }[]> {
  const out: { type: SageItemType; item: SageItemRecord }[] = [];
  for (const type of ["service", "product"] as const) {
    for (const item of await sage.findItems(type, code)) if (normalizeKey(item.itemCode) === normalizeKey(code)) out.push({ type, item });
  }
  return out;
}

async function pickLedger(sage: SageConnectionApi, visibleIn: "sales" | "expenses", preferred: number): Promise<string> {
  const ledgers = await sage.listLedgerAccounts(visibleIn);
  const chosen = ledgers.find((l) => l.nominalCode === preferred) ?? ledgers[0];
  if (!chosen) throw new SageError("validation", `The Sage business has no ledger account visible in ${visibleIn}.`);
  return chosen.id;
}

export type AddToSageResult =
  | { ok: true; outcome: "created" | "found" | "already_mapped"; sageItemId: string; type: "product" | "service" }
  | { ok: false; kind: string; message: string };

/**
 * "Add product to Sage" (run by an Inngest function): look the item code (= MPN) up in Sage first,
 * create a service (or product) only when Sage has none — with an `idempotency_id`, so a retried
 * create never makes a second item — then cache and map it. Sage refusals and mapping rules
 * (many → one) are logged as the request's outcome and returned; transient trouble is thrown.
 *
 * A fee product (the marketplace's cancellation fee) is mapped where fees are read: the fee
 * mapping of its kind (the Fees pane, and the item the sync invoices that fee as), not a product
 * mapping — so "Added to Sage and mapped" and the Fees pane say the same thing.
 */
export async function addProductToSage(
  db: Database,
  input: { tenantId: string; productId: string; actor: Actor; requestId: string; type?: SageItemTypeForCreate; policy?: Partial<SageRetryPolicy> },
): Promise<AddToSageResult> {
  const what = "Add product to Sage";
  const [product] = await db
    .select({ id: marketplaceProducts.id, marketplaceProductId: marketplaceProducts.marketplaceProductId, mpn: marketplaceProducts.mpn, name: marketplaceProducts.name, description: marketplaceProducts.description, unitPrice: marketplaceProducts.unitPrice, kind: marketplaceProducts.kind, rawFeeKind: sql<string | null>`${marketplaceProducts.raw}->>'fee_kind'`, productMappedTo: productMappings.sageItemId })
    .from(marketplaceProducts)
    .leftJoin(productMappings, and(eq(productMappings.tenantId, marketplaceProducts.tenantId), eq(productMappings.productId, marketplaceProducts.id)))
    .where(and(eq(marketplaceProducts.tenantId, input.tenantId), eq(marketplaceProducts.id, input.productId)));
  const fail = async (kind: string, message: string, details: Record<string, unknown> = {}) => {
    await recordRequestFailure(db, { tenantId: input.tenantId, actor: input.actor, requestId: input.requestId, what: product ? `${what} for ${product.name} (${product.mpn})` : what, message, details: { op: "product_add_to_sage", productId: input.productId, ...details } });
    return { ok: false as const, kind, message };
  };
  if (!product) return fail("not_found", `That marketplace product does not exist. ${NOTHING_SAVED}`);
  let feeKind: FeeKind | null = null;
  if (product.kind === "fee") {
    feeKind = feeKindOfProduct(product.rawFeeKind);
    if (!feeKind) return fail("unknown_fee", `${product.name} (${product.mpn}) is a marketplace fee of a kind Sage Connector does not invoice (“${product.rawFeeKind}”). ${NOTHING_SAVED}`);
  }
  let connection: Awaited<ReturnType<typeof requireActiveConnection>>;
  try {
    connection = await requireActiveConnection(db, input.tenantId);
  } catch (e) {
    if (e instanceof MappingError) return fail(e.reason, e.message);
    throw e;
  }
  const mappedTo = feeKind
    ? ((await db.select({ sageItemId: feeMappings.sageItemId }).from(feeMappings).where(and(eq(feeMappings.tenantId, input.tenantId), eq(feeMappings.feeKind, feeKind))))[0]?.sageItemId ?? null)
    : product.productMappedTo;
  if (mappedTo) {
    const [cached] = await db.select().from(sageItems).where(and(eq(sageItems.connectionId, connection.id), eq(sageItems.sageId, mappedTo)));
    if (cached) {
      await writeActionLog(db, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "info",
        category: "mapping",
        message: feeKind
          ? `${product.name} (${product.mpn}) is already mapped: the ${FEE_LABELS[feeKind]} is invoiced as ${describeSageItem(cached)}; nothing added to Sage`
          : `${product.name} (${product.mpn}) is already mapped to ${describeSageItem(cached)}; nothing added to Sage`,
        details: { op: "product_add_to_sage", requestId: input.requestId, productId: product.id, sageItemId: cached.sageId },
      });
      return { ok: true, outcome: "already_mapped", sageItemId: cached.sageId, type: cached.type };
    }
  }

  const type = input.type ?? "service";
  const target = await connectionTarget(db, connection.id);
  if (!target.capabilities.items.create) return fail("validation", `${target.label} cannot create products or services through the connector: create it in ${target.label}, wait for its next data file (or click Refresh from Sage), then map it. ${NOTHING_SAVED}`);
  const sage = catalogConnection(db, connection.id, input.policy);
  let found: { type: SageItemType; item: SageItemRecord } | undefined;
  let outcome: "created" | "found";
  try {
    const existing = await findSageItemsByCode(sage, product.mpn);
    found = existing.find((e) => e.type === type) ?? existing[0];
    outcome = found ? "found" : "created";
    if (!found) {
      const price = product.unitPrice === null ? null : Number(product.unitPrice);
      // a fee is income, not a sale of the product: Other Income (4900) where the business has it
      const salesLedger = await pickLedger(sage, "sales", feeKind ? 4900 : 4000);
      const created = await sage.createItem(
        {
          type,
          description: product.name,
          itemCode: product.mpn,
          notes: product.description ?? undefined,
          sourceGuid: product.marketplaceProductId,
          price: price !== null && Number.isFinite(price) ? price : null,
          salesLedgerAccountId: salesLedger,
          purchaseLedgerAccountId: type === "product" ? await pickLedger(sage, "expenses", 5000) : undefined,
        },
        idempotencyIds.item(input.tenantId, product.marketplaceProductId),
      );
      found = { type, item: created };
    }
  } catch (e) {
    if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome") throw e;
    return fail(e.kind, `Sage refused: ${e.message}${e.details[0]?.source ? ` (${e.details[0].source})` : ""}. ${NOTHING_SAVED}`, { kind: e.kind, status: e.status });
  }

  const item = found.item;
  await upsertCachedItems(db, [itemCacheValues(input.tenantId, connection.id, found.type, item, new Date())]);
  const label = describeSageItem({ type: found.type, itemCode: item.itemCode, description: item.description ?? item.displayedAs ?? item.id });
  try {
    if (feeKind) {
      const asFee = `mapped as the ${FEE_LABELS[feeKind]}`;
      await db.transaction((tx) =>
        mapFeeInTx(tx, {
          tenantId: input.tenantId,
          feeKind: feeKind,
          sageItemId: item.id,
          actor: input.actor,
          productId: product.id,
          via: outcome === "created" ? "add_to_sage" : "add_to_sage_found_existing",
          requestId: input.requestId,
          message:
            outcome === "created"
              ? `Added to Sage and ${asFee}: ${product.name} (${product.mpn}) → new ${label}`
              : `Found in Sage by item code and ${asFee}: ${product.name} (${product.mpn}) → ${label} (nothing new created in Sage)`,
        }),
      );
      return { ok: true, outcome, sageItemId: item.id, type: found.type };
    }
    await db.transaction((tx) =>
      mapProductsInTx(tx, {
        tenantId: input.tenantId,
        productIds: [product.id],
        sageItemId: item.id,
        actor: input.actor,
        via: outcome === "created" ? "add_to_sage" : "add_to_sage_found_existing",
        requestId: input.requestId,
        message:
          outcome === "created"
            ? `Added to Sage and mapped: ${product.name} (${product.mpn}) → new ${label}`
            : `Found in Sage by item code and mapped: ${product.name} (${product.mpn}) → ${label} (nothing new created in Sage)`,
      }),
    );
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    return fail(e.reason, `${label} is in Sage, but the mapping was refused: ${e.message}`, { sageItemId: item.id });
  }
  return { ok: true, outcome, sageItemId: item.id, type: found.type };
}
