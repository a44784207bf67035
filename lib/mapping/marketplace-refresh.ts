import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { marketplaceCustomers, marketplaceProducts, tenants } from "@/db/schema";
import { findInstallation } from "@/lib/install/install";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import type { MarketplaceCustomerDto, MarketplaceProductDto } from "@/lib/marketplace/api-schemas";
import { upsertMarketplaceCustomers, upsertMarketplaceProducts } from "@/lib/marketplace/catalog";
import { MarketplaceApiError, MarketplaceClient } from "@/lib/marketplace/client";
import { REFRESH_OPS } from "./status";

/** What a refresh needs from the marketplace (the API client; tests may pass another source). */
export type MarketplaceCatalogSource = {
  products(accountId: string): AsyncIterable<MarketplaceProductDto>;
  customers(accountId: string): AsyncIterable<MarketplaceCustomerDto>;
};

export type MarketplaceRefreshResult = { ok: true; products: number; customers: number } | { ok: false; kind: string; message: string };

const BATCH = 500;
async function drainInBatches<T>(source: AsyncIterable<T>, write: (items: T[]) => Promise<unknown>): Promise<number> {
  let batch: T[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    await write(items);
    n += items.length;
  };
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return n;
}

/**
 * "Refresh from marketplace": pull the reseller's catalog and customers from the marketplace API
 * (paged) and upsert them page by page. Rows the marketplace no longer lists are
 * kept (orders and mappings refer to them). Marketplace refusals are logged and returned;
 * transient trouble (429/5xx/network) is thrown so the Inngest function retries.
 */
export async function refreshFromMarketplace(
  db: Database,
  input: { tenantId: string; actor: Actor; requestId?: string; source?: MarketplaceCatalogSource },
): Promise<MarketplaceRefreshResult> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, input.tenantId));
  const installation = await findInstallation(db, input.tenantId);
  const fail = async (kind: string, message: string) => {
    await writeActionLog(db, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "error",
      category: "mapping",
      message: `Refresh from marketplace failed: ${message}`,
      details: { op: REFRESH_OPS.marketplace, requestId: input.requestId, kind },
    });
    return { ok: false as const, kind, message };
  };
  if (!tenant || !installation) return fail("not_installed", "Sage Integration is not installed for this reseller account.");
  let products: number, customers: number;
  try {
    const source = input.source ?? MarketplaceClient.for(installation.marketplaceId);
    products = await drainInBatches(source.products(tenant.marketplaceAccountId), (page) => upsertMarketplaceProducts(db, input.tenantId, page));
    customers = await drainInBatches(source.customers(tenant.marketplaceAccountId), (page) => upsertMarketplaceCustomers(db, input.tenantId, page));
  } catch (e) {
    if (e instanceof MarketplaceApiError && !e.retryable) return fail("marketplace", e.message);
    if ((e as Error)?.name === "ZodError") return fail("marketplace", `the marketplace answered data in an unexpected shape (${(e as Error).message.slice(0, 300)})`);
    throw e;
  }
  await writeActionLog(db, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "success",
    category: "mapping",
    message: `Refreshed from marketplace: ${products} products and ${customers} customers`,
    details: { op: REFRESH_OPS.marketplace, requestId: input.requestId, products, customers },
  });
  return { ok: true, products, customers };
}
