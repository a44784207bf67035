import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { feeMappings, productMappings, sageItems } from "@/db/schema";
import { SAGE_ITEM_CREATE_REQUESTED } from "@/inngest/functions/sage-item-create";
import { SAGE_CACHE_REFRESH_REQUESTED } from "@/inngest/functions/sage-cache-refresh";
import { MappingError } from "@/lib/mapping/common";
import { listFeeMappings, mapFee, unmapFee } from "@/lib/mapping/fees";
import { autoMatchProducts, listProducts, mapProducts, productListQuerySchema, unmapProducts } from "@/lib/mapping/products";
import { searchSageItems } from "@/lib/mapping/sage-cache";
import { getMappingStatus, getRequestOutcomes } from "@/lib/mapping/status";
import { addProductToSage } from "@/lib/sage-catalog/create-item";
import { idempotencyIds } from "@/lib/sync/documents";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { unwrap } from "@/lib/sage/accounting/api";
import { saveSettings, DEFAULT_SETTINGS } from "@/lib/settings/settings";
import { FAST, startMappingWorld, type MappingWorld } from "./mapping-helpers";

const q = (input: Record<string, unknown> = {}) => productListQuerySchema.parse(input);

describe("Mapping: products", () => {
  let w: MappingWorld;
  const ids: Record<string, string> = {};
  const item = async (code: string) => (await w.db.db.select().from(sageItems).where(and(eq(sageItems.connectionId, w.connectionId), eq(sageItems.itemCode, code))))[0]!;
  const mappingOf = async (productId: string) => (await w.db.db.select().from(productMappings).where(eq(productMappings.productId, productId)))[0];

  beforeAll(async () => {
    w = await startMappingWorld();
    // the marketplace catalog (seeded directly, as the marketplace API would upsert it)
    ids.basicMonthly = await w.product({ id: "PRD-1", mpn: "M365-BASIC", name: "Microsoft 365 Basic monthly", unit_price: "5.10" });
    ids.basicYearly = await w.product({ id: "PRD-2", mpn: "m365-basic", name: "Microsoft 365 Basic yearly", unit_price: "55" });
    ids.standard = await w.product({ id: "PRD-3", mpn: "MS-STD-M", name: "microsoft 365 business standard (MONTHLY)" });
    // MPN wins over name: the MPN is BACKUP-50GB, the name is M365-BASIC's description
    ids.backup = await w.product({ id: "PRD-4", mpn: "backup-50gb", name: "Microsoft 365 Business Basic (monthly)" });
    ids.teams = await w.product({ id: "PRD-5", mpn: "TEAMS-ESS", name: "Teams Essentials", unit_price: "3.40" });
    ids.copilot = await w.product({ id: "PRD-6", mpn: "COPILOT-M365", name: "Copilot for Microsoft 365", unit_price: "24.70" });
    ids.fee = await w.product({ id: "PRD-FEE", mpn: "CANCEL-FEE", name: "Cancellation fee", type: "fee", fee_kind: "cancellation", unit_price: "25" });
  });
  afterAll(async () => w?.close());

  it("Refresh from Sage (Inngest function) fills the cache with products and services and is logged", async () => {
    const requestId = w.requestId();
    const { runIds } = await w.runner.send({ name: SAGE_CACHE_REFRESH_REQUESTED, data: { tenantId: w.tenantId, connectionId: w.connectionId, requestId, actor: w.actor } });
    const run = await w.runner.waitForRun(runIds[0]!);
    expect(run.status).toBe("completed");
    const cached = await w.db.db.select().from(sageItems).where(eq(sageItems.connectionId, w.connectionId));
    expect(cached.map((i) => `${i.type}:${i.itemCode}`).sort()).toEqual(["product:YUBIKEY-5", "service:BACKUP-50GB", "service:M365-BASIC", "service:M365-STANDARD"]);
    expect((await item("M365-BASIC")).salesPrice).toBe("4.9000");
    expect((await item("M365-BASIC")).description).toBe("Microsoft 365 Business Basic (monthly)");
    const [outcome] = await getRequestOutcomes(w.db.db, w.tenantId, [requestId]);
    expect(outcome).toMatchObject({ state: "done", ok: true, message: expect.stringContaining("Refreshed from Sage: 4 items (3 services, 1 products)") });
    const status = await getMappingStatus(w.db.db, w.tenantId);
    expect(status.sage).toMatchObject({ items: 4, lastRefresh: { ok: true } });
    expect(status.needsInitialRefresh.sage).toBe(false);
    // the picker searches code and description
    expect((await searchSageItems(w.db.db, w.tenantId, { search: "backup" })).map((i) => i.itemCode)).toEqual(["BACKUP-50GB"]);
  });

  it("auto-match: MPN = item code first, then name = description (case-insensitive); an item already used is not used twice", async () => {
    const before = await w.lastLogId();
    const summary = await autoMatchProducts(w.db.db, { tenantId: w.tenantId, actor: w.actor });
    expect(summary).toMatchObject({ considered: 6, matched: 3, byMpn: 2, byName: 1, noMatch: 2, itemAlreadyMapped: 1, ambiguous: 0 });
    expect((await mappingOf(ids.basicMonthly!))?.sageItemCode).toBe("M365-BASIC");
    expect(await mappingOf(ids.basicYearly!)).toBeUndefined(); // same item, many → one is off
    expect((await mappingOf(ids.standard!))?.sageItemCode).toBe("M365-STANDARD");
    expect((await mappingOf(ids.backup!))?.sageItemCode).toBe("BACKUP-50GB");
    expect(summary.matches.find((m) => m.productId === ids.standard)?.by).toBe("name");
    expect(summary.message).toBe(
      "Auto-match: 3 of 6 unmapped products mapped (2 by MPN = item code, 1 by name = description); 2 without a match; 1 whose Sage item is already mapped to another product.",
    );
    const log = await w.mappingLog(before);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ level: "success", category: "mapping", message: summary.message, actorId: w.adminId });
  });

  it("show only unmapped, search and paging are done on the server", async () => {
    const unmapped = await listProducts(w.db.db, w.tenantId, q({ unmapped: "1" }));
    expect(unmapped.rows.map((r) => r.mpn).sort()).toEqual(["COPILOT-M365", "TEAMS-ESS", "m365-basic"]);
    expect(unmapped.total).toBe(3);
    const all = await listProducts(w.db.db, w.tenantId, q());
    expect(all.total).toBe(6); // the fee is not a product row; it has its own pane
    expect(all.rows.find((r) => r.id === ids.basicMonthly)?.mapping).toMatchObject({ sageItemCode: "M365-BASIC", itemExists: true });
    const search = await listProducts(w.db.db, w.tenantId, q({ search: "365 BASIC", unmapped: "true" }));
    expect(search.rows.map((r) => r.mpn)).toEqual(["m365-basic"]);
    const page = await listProducts(w.db.db, w.tenantId, q({ limit: "2", offset: "2" }));
    expect(page.rows).toHaveLength(2);
    expect(page.total).toBe(6);
    expect(page.rows[0]!.name).toBe(all.rows[2]!.name);
    // LIKE wildcards in the search are literal
    expect((await listProducts(w.db.db, w.tenantId, q({ search: "%" }))).total).toBe(0);
    // bad parameters are refused by the schema
    expect(productListQuerySchema.safeParse({ limit: "100000" }).success).toBe(false);
    expect(productListQuerySchema.safeParse({ kind: "other" }).success).toBe(false);
  });

  it("many → one is refused on the server unless the setting allows it; nothing is saved", async () => {
    const basic = await item("M365-BASIC");
    const before = await w.lastLogId();
    const refused = await mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.basicYearly!], sageItemId: basic.sageId, actor: w.actor }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MappingError);
    expect((refused as MappingError).reason).toBe("many_to_one");
    expect((refused as MappingError).message).toContain("already mapped to Microsoft 365 Basic monthly (M365-BASIC)");
    expect((refused as MappingError).message).toContain("Nothing was saved.");
    // bulk: two products onto one free item is many → one as well
    const yubi = await item("YUBIKEY-5");
    const bulk = await mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.teams!, ids.copilot!], sageItemId: yubi.sageId, actor: w.actor }).catch((e: unknown) => e);
    expect((bulk as MappingError).reason).toBe("many_to_one");
    // two concurrent requests for the same free item: exactly one wins
    const race = await Promise.allSettled([
      mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.teams!], sageItemId: yubi.sageId, actor: w.actor }),
      mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.copilot!], sageItemId: yubi.sageId, actor: w.actor }),
    ]);
    expect(race.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(race.filter((r) => r.status === "rejected" && (r.reason as MappingError).reason === "many_to_one")).toHaveLength(1);
    expect(await w.db.db.select().from(productMappings).where(eq(productMappings.sageItemId, yubi.sageId))).toHaveLength(1);
    expect(await mappingOf(ids.basicYearly!)).toBeUndefined();
    expect((await w.mappingLog(before)).map((l) => l.message)).toHaveLength(1); // only the race winner

    // allowed: the yearly plan joins the monthly one on the same Sage item
    await saveSettings(w.db.db, { tenantId: w.tenantId, values: { ...DEFAULT_SETTINGS, allowManyProductsToOneItem: true }, actor: w.actor });
    const ok = await mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.basicYearly!], sageItemId: basic.sageId, actor: w.actor });
    expect(ok.mapped).toBe(1);
    expect(await w.db.db.select().from(productMappings).where(eq(productMappings.sageItemId, basic.sageId))).toHaveLength(2);
    const [log] = (await w.mappingLog(before)).slice(-1);
    expect(log!.message).toBe("Product mapped: Microsoft 365 Basic yearly (m365-basic) → Sage service M365-BASIC “Microsoft 365 Business Basic (monthly)”");
    await saveSettings(w.db.db, { tenantId: w.tenantId, values: DEFAULT_SETTINGS, actor: w.actor });
  });

  it("unmap removes the mapping and logs it; bulk unmap too", async () => {
    const before = await w.lastLogId();
    expect(await unmapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.basicYearly!], actor: w.actor })).toEqual({ unmapped: 1 });
    expect(await mappingOf(ids.basicYearly!)).toBeUndefined();
    const mappedYubi = (await mappingOf(ids.teams!)) ? ids.teams! : ids.copilot!;
    expect(await unmapProducts(w.db.db, { tenantId: w.tenantId, productIds: [mappedYubi, ids.teams!, ids.copilot!], actor: w.actor })).toEqual({ unmapped: 1 });
    expect(await unmapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.teams!], actor: w.actor })).toEqual({ unmapped: 0 });
    const log = await w.mappingLog(before);
    expect(log.map((l) => l.message)).toEqual([
      "Product unmapped: Microsoft 365 Basic yearly (m365-basic) (was “Microsoft 365 Business Basic (monthly)”)",
      expect.stringMatching(/^Product unmapped: (Teams Essentials|Copilot for Microsoft 365) .*\(was “Security key \(hardware\)”\)$/),
    ]);
  });

  it("a mapping to a Sage item that no longer exists is refused with a clear error and nothing is saved", async () => {
    // the YubiKey product is deleted in Sage; the next refresh removes it from the cache
    const yubi = await item("YUBIKEY-5");
    await w.sage.DELETE("/products/{key}", { params: { path: { key: yubi.sageId } } });
    const refreshed = await refreshSageCatalog(w.db.db, { tenantId: w.tenantId, actor: w.actor });
    expect(refreshed).toMatchObject({ ok: true, items: 3, removedItems: 1 });
    const before = await w.lastLogId();
    const error = await mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.teams!], sageItemId: yubi.sageId, actor: w.actor }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).reason).toBe("sage_item_missing");
    expect((error as MappingError).status).toBe(422);
    expect((error as MappingError).message).toMatch(/no longer exists in Sage.*Nothing was saved\./);
    expect(await mappingOf(ids.teams!)).toBeUndefined();
    expect(await w.mappingLog(before)).toHaveLength(0);
    // an id that never existed: the same
    await expect(mapProducts(w.db.db, { tenantId: w.tenantId, productIds: [ids.teams!], sageItemId: "0".repeat(32), actor: w.actor })).rejects.toMatchObject({ reason: "sage_item_missing" });
  });

  it("Add product to Sage creates exactly one Sage service even when the create is dropped after commit and retried", async () => {
    await w.clearFaults();
    await w.fault({ route: "sage.services.create", kind: "commit-then-drop", count: 1 });
    await w.clearRequestLog();
    const requestId = w.requestId();
    const { runIds } = await w.runner.send({ name: SAGE_ITEM_CREATE_REQUESTED, data: { tenantId: w.tenantId, connectionId: w.connectionId, productId: ids.teams, requestId, type: "service", actor: w.actor } });
    const run = await w.runner.waitForRun(runIds[0]!, { timeoutMs: 30_000 });
    expect(run.status).toBe("completed");
    const created = (await w.state()).services.filter((s) => s.item_code === "TEAMS-ESS");
    expect(created).toHaveLength(1);
    const mapping = await mappingOf(ids.teams!);
    expect(mapping).toMatchObject({ sageItemId: created[0]!.id, sageItemType: "service", sageItemCode: "TEAMS-ESS", sageItemName: "Teams Essentials" });
    // the create carried the derived idempotency_id and the sales price; the retry was a replay
    const creates = (await w.requestLog()).filter((l) => l.route === "sage.services.create");
    expect(creates.length).toBeGreaterThanOrEqual(2);
    const expectedId = idempotencyIds.item(w.tenantId, "PRD-5");
    expect(expectedId).toMatch(/^[0-9a-f]{32}$/);
    expect(creates.every((c) => c.idempotency_id === expectedId)).toBe(true);
    const full = unwrap(await w.sage.GET("/services/{key}", { params: { path: { key: created[0]!.id } } })) as { sales_rates?: { rate?: number }[]; sales_ledger_account?: { displayed_as?: string } };
    expect(full.sales_rates?.[0]?.rate).toBe(3.4);
    expect(full.sales_ledger_account?.displayed_as).toMatch(/4000/);
    const [outcome] = await getRequestOutcomes(w.db.db, w.tenantId, [requestId]);
    expect(outcome).toMatchObject({ state: "done", ok: true, message: "Added to Sage and mapped: Teams Essentials (TEAMS-ESS) → new Sage service TEAMS-ESS “Teams Essentials”" });
    // the item is in the cache at once (no refresh needed to map it elsewhere)
    expect((await item("TEAMS-ESS")).sageId).toBe(created[0]!.id);
  });

  it("a retried Add product to Sage looks the item code up first and never creates a second item", async () => {
    await w.clearFaults();
    // every answer to the create is lost: the client gives up with unknown_outcome, but Sage has the item
    await w.fault({ route: "sage.services.create", kind: "commit-then-drop", count: 1 });
    const requestId = w.requestId();
    const first = await addProductToSage(w.db.db, { tenantId: w.tenantId, productId: ids.copilot!, actor: w.actor, requestId, policy: { ...FAST, maxAttempts: 1 } }).catch((e: unknown) => e);
    expect((first as { kind?: string }).kind).toBe("unknown_outcome");
    expect((await w.state()).services.filter((s) => s.item_code === "COPILOT-M365")).toHaveLength(1);
    expect(await mappingOf(ids.copilot!)).toBeUndefined();
    // the function's retry: found by item code, mapped, nothing new created
    await w.clearRequestLog();
    const second = await addProductToSage(w.db.db, { tenantId: w.tenantId, productId: ids.copilot!, actor: w.actor, requestId, policy: FAST });
    expect(second).toMatchObject({ ok: true, outcome: "found" });
    expect((await w.requestLog()).filter((l) => l.route === "sage.services.create")).toHaveLength(0);
    expect((await w.state()).services.filter((s) => s.item_code === "COPILOT-M365")).toHaveLength(1);
    expect((await mappingOf(ids.copilot!))?.sageItemCode).toBe("COPILOT-M365");
    // a third click on a mapped product changes nothing and says so
    const third = await addProductToSage(w.db.db, { tenantId: w.tenantId, productId: ids.copilot!, actor: w.actor, requestId: w.requestId(), policy: FAST });
    expect(third).toMatchObject({ ok: true, outcome: "already_mapped" });
    expect((await w.state()).services.filter((s) => s.item_code === "COPILOT-M365")).toHaveLength(1);
  });

  it("Add product to Sage for an MPN Sage already has as an item code maps the existing item; many → one still applies", async () => {
    // m365-basic (yearly) → M365-BASIC exists in Sage and is mapped to the monthly plan: refused, logged as the outcome
    const requestId = w.requestId();
    const result = await addProductToSage(w.db.db, { tenantId: w.tenantId, productId: ids.basicYearly!, actor: w.actor, requestId, policy: FAST });
    expect(result).toMatchObject({ ok: false, kind: "many_to_one" });
    const [outcome] = await getRequestOutcomes(w.db.db, w.tenantId, [requestId]);
    expect(outcome).toMatchObject({ state: "done", ok: false, message: expect.stringContaining("the mapping was refused") });
    expect((await w.state()).services.filter((s) => (s.item_code ?? "").toUpperCase() === "M365-BASIC")).toHaveLength(1);
    expect(await mappingOf(ids.basicYearly!)).toBeUndefined();
  });

  it("Fees mapping: the cancellation fee → a Sage item; a vanished item is refused; unmap", async () => {
    const before = await w.lastLogId();
    const [fee] = await listFeeMappings(w.db.db, w.tenantId);
    expect(fee).toMatchObject({ feeKind: "cancellation", label: "Cancellation fee", mapping: null, marketplaceProducts: [{ mpn: "CANCEL-FEE", name: "Cancellation fee" }] });
    const backup = await item("BACKUP-50GB");
    await mapFee(w.db.db, { tenantId: w.tenantId, feeKind: "cancellation", sageItemId: backup.sageId, actor: w.actor });
    expect((await listFeeMappings(w.db.db, w.tenantId))[0]!.mapping).toMatchObject({ sageItemId: backup.sageId, itemExists: true });
    await expect(mapFee(w.db.db, { tenantId: w.tenantId, feeKind: "cancellation", sageItemId: "f".repeat(32), actor: w.actor })).rejects.toMatchObject({ reason: "sage_item_missing" });
    expect((await w.db.db.select().from(feeMappings))[0]!.sageItemId).toBe(backup.sageId);
    await unmapFee(w.db.db, { tenantId: w.tenantId, feeKind: "cancellation", actor: w.actor });
    expect(await w.db.db.select().from(feeMappings)).toHaveLength(0);
    expect((await w.mappingLog(before)).map((l) => l.message)).toEqual([
      "Fee mapped: Cancellation fee → Sage service BACKUP-50GB “Cloud Backup 50 GB”",
      "Fee unmapped: Cancellation fee (was “Cloud Backup 50 GB”)",
    ]);
  });

  it("every mapping change above wrote an Action Log row (category mapping) with the acting user", async () => {
    const log = await w.mappingLog();
    expect(log.length).toBeGreaterThanOrEqual(10);
    expect(log.every((l) => l.category === "mapping" && l.tenantId === w.tenantId)).toBe(true);
    // every change above was made by the admin (directly or through a function run on the admin's behalf)
    const byUser = log.filter((l) => l.actorType === "user");
    expect(byUser.length).toBeGreaterThanOrEqual(10);
    expect(byUser.filter((l) => l.actorId !== w.adminId)).toEqual([]);
  });
});
