/**
 * Mapping screen filter benchmark: `npx tsx bench/mapping-filter.ts`
 *
 * Seeds 10,000 marketplace products (3,000 of them mapped to 2,000 cached Sage items) into a fresh
 * PGlite database — and into a fresh PostgreSQL database too when DATABASE_URL is set — then times
 * the server-side filter behind GET /api/mapping/products (`listProducts`: search + "show only
 * unmapped" + first page, and a few other shapes) over many iterations. Prints p50/p95 in ms and
 * the ratio to a baseline measured in the same run (a bare `select … limit 50` on the same table),
 * and PASS/FAIL against the 50 ms target (p95 of each case).
 *
 * Options (env): BENCH_PRODUCTS (10000), BENCH_ITERATIONS (200).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { eq, sql } from "drizzle-orm";
import { openDatabase, type Database, type DatabaseHandle } from "@/db/client";
import { branches, connections, marketplaceProducts, productMappings, sageItems, tenants } from "@/db/schema";
import { listProducts, productListQuerySchema } from "@/lib/mapping/products";

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const TARGET_MS = 50;

const VENDORS = ["Microsoft 365", "Google Workspace", "Acronis Backup", "Dropbox Business", "Zoom", "Adobe Acrobat", "Kaspersky", "Slack", "Bitdefender", "Veeam"];
const PLANS = ["Basic", "Standard", "Premium", "Enterprise", "Starter", "Plus"];
const PERIODS = ["monthly", "yearly"] as const;

export async function seed(db: Database) {
  const [tenant] = await db.insert(tenants).values({ marketplaceAccountId: `BENCH-${randomBytes(3).toString("hex")}`, name: "Bench Reseller" }).returning();
  const [branch] = await db.insert(branches).values({ tenantId: tenant!.id, name: "Main" }).returning();
  const [connection] = await db
    .insert(connections)
    .values({ tenantId: tenant!.id, branchId: branch!.id, name: "Sage Business Cloud Accounting", target: "sage-accounting", country: "gb", status: "connected" })
    .returning();
  const items = Array.from({ length: 2_000 }, (_, i) => ({
    tenantId: tenant!.id,
    connectionId: connection!.id,
    sageId: randomBytes(16).toString("hex"),
    type: "service" as const,
    itemCode: `ITEM-${String(i).padStart(5, "0")}`,
    description: `Sage item ${i}`,
  }));
  for (let i = 0; i < items.length; i += 1000) await db.insert(sageItems).values(items.slice(i, i + 1000));
  const products = Array.from({ length: PRODUCTS }, (_, i) => {
    const vendor = VENDORS[i % VENDORS.length]!;
    const plan = PLANS[Math.floor(i / VENDORS.length) % PLANS.length]!;
    const period = PERIODS[i % 2]!;
    return {
      tenantId: tenant!.id,
      marketplaceProductId: `PRD-${String(i).padStart(6, "0")}`,
      mpn: `${vendor.split(" ")[0]!.toUpperCase()}-${plan.toUpperCase()}-${i}`,
      name: `${vendor} ${plan} (${period}) #${i}`,
      unitPrice: (5 + (i % 40)).toFixed(2),
      currency: "GBP",
      billingPeriod: period,
      kind: "item" as const,
    };
  });
  const ids: string[] = [];
  for (let i = 0; i < products.length; i += 1000) {
    const rows = await db.insert(marketplaceProducts).values(products.slice(i, i + 1000)).returning({ id: marketplaceProducts.id });
    ids.push(...rows.map((r) => r.id));
  }
  // 3,000 products mapped (every third one), spread over the Sage items
  const mappings = ids
    .filter((_, i) => i % 3 === 0)
    .slice(0, 3_000)
    .map((productId, i) => {
      const item = items[i % items.length]!;
      return { tenantId: tenant!.id, productId, sageItemId: item.sageId, sageItemType: item.type, sageItemCode: item.itemCode, sageItemName: item.description };
    });
  for (let i = 0; i < mappings.length; i += 1000) await db.insert(productMappings).values(mappings.slice(i, i + 1000));
  await db.execute(sql`analyze`);
  return tenant!.id;
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function time(fn: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await fn(); // warm-up (plans, caches, JIT)
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function run(label: string, handle: DatabaseHandle) {
  const db = handle.db;
  const started = performance.now();
  const tenantId = await seed(db);
  console.log(`\n${label}: seeded ${PRODUCTS} products, 3000 mappings, 2000 Sage items in ${Math.round(performance.now() - started)} ms; ${ITERATIONS} iterations per case`);

  const baseline = await time(() => db.select().from(marketplaceProducts).where(eq(marketplaceProducts.tenantId, tenantId)).limit(50));
  const cases: [string, Record<string, string>][] = [
    ["search + unmapped, first page", { search: "premium", unmapped: "1", limit: "100" }],
    ["unmapped only, first page", { unmapped: "1", limit: "100" }],
    ["search only (rare term), first page", { search: "acrobat enterprise (yearly) #9", limit: "100" }],
    ["no filter, first page", { limit: "100" }],
    ["no filter, page at offset 9,000", { offset: "9000", limit: "100" }],
  ];
  console.log(`  baseline  select … where tenant limit 50: p50 ${baseline.p50.toFixed(2)} ms, p95 ${baseline.p95.toFixed(2)} ms`);
  let pass = true;
  for (const [name, params] of cases) {
    const query = productListQuerySchema.parse(params);
    const page = await listProducts(db, tenantId, query);
    const t = await time(() => listProducts(db, tenantId, query));
    // a case that returns no row measured nothing worth a PASS (e.g. BENCH_PRODUCTS too small)
    const ok = page.rows.length > 0 && Number.isFinite(t.p95) && t.p95 < TARGET_MS;
    pass &&= ok;
    console.log(
      `  ${ok ? "PASS" : "FAIL"}  ${name.padEnd(38)} p50 ${t.p50.toFixed(2).padStart(6)} ms, p95 ${t.p95.toFixed(2).padStart(6)} ms, ${(t.p50 / baseline.p50).toFixed(1).padStart(5)}× baseline p50 (${page.rows.length} rows of ${page.total})`,
    );
  }
  console.log(`  ${label}: ${pass ? "PASS" : "FAIL"} (target: p95 < ${TARGET_MS} ms per request)`);
  return pass;
}

async function main() {
  const results: boolean[] = [];
  if (!(Number.isInteger(ITERATIONS) && ITERATIONS >= 1) || !(Number.isInteger(PRODUCTS) && PRODUCTS >= 1)) {
    console.log(`\nmapping filter bench: FAIL (nothing measured: BENCH_ITERATIONS and BENCH_PRODUCTS must be ≥ 1, got ${ITERATIONS} and ${PRODUCTS})`);
    process.exit(1);
  }
  const pglite = await openDatabase({ url: "", pgliteDir: "memory://" });
  try {
    results.push(await run("PGlite (in memory)", pglite));
  } finally {
    await pglite.close();
  }
  const url = process.env.DATABASE_URL;
  if (url) {
    const { Client } = await import("pg");
    const name = `sc_bench_${Date.now()}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    const pg = await openDatabase({ url: dbUrl.toString() });
    try {
      results.push(await run("PostgreSQL", pg));
    } finally {
      await pg.close();
      await new Promise((r) => setTimeout(r, 200));
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  } else {
    console.log("\n(DATABASE_URL not set: PostgreSQL skipped)");
  }
  const pass = results.length > 0 && results.every(Boolean);
  console.log(`\nmapping filter bench: ${pass ? "PASS" : "FAIL"}`);
  process.exit(pass ? 0 : 1);
}

if (!process.env.BENCH_NO_MAIN) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
