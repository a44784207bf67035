import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { marketplaceProducts, tenantSettings } from "@/db/schema";
import { findActiveConnection } from "@/lib/connections/authorize";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { defaultTaxRules, describeTaxRule, effectiveTaxRules, taxRulesSchemaFor, type TaxRule } from "@/lib/sync/tax-rules";
import { DEFAULT_SETTINGS, getSettings } from "./settings";

export type TaxRulesView = { businessCountry: string; rules: TaxRule[]; custom: boolean; defaults: TaxRule[] };

/** The business country the rules are read against: the connected Sage business's (GB until one is connected). */
async function businessCountryOf(db: Database, tenantId: string) {
  return ((await findActiveConnection(db, tenantId))?.country ?? "gb").toUpperCase();
}

export async function getTaxRules(db: Database, tenantId: string): Promise<TaxRulesView> {
  const businessCountry = await businessCountryOf(db, tenantId);
  const { taxRules } = await getSettings(db, tenantId);
  return { businessCountry, rules: effectiveTaxRules(taxRules, businessCountry), custom: taxRules !== null, defaults: defaultTaxRules(businessCountry) };
}

export type SaveTaxRulesResult = { ok: true; view: TaxRulesView; changed: boolean } | { ok: false; errors: string[] };

/**
 * Save the reseller's VAT rule table (or `null`: back to the defaults for the business's country).
 * Validated whole (a rule's country must lie in its region, no two rules for the same case); a
 * refused table changes nothing. The Action Log row lists the new table, in the same transaction.
 * Orders synced afterwards take the new rules; documents already in Sage are not changed.
 */
export async function saveTaxRules(db: Database, input: { tenantId: string; rules: unknown[] | null; actor: Actor }): Promise<SaveTaxRulesResult> {
  const businessCountry = await businessCountryOf(db, input.tenantId);
  let rules: TaxRule[] | null = null;
  if (input.rules !== null) {
    const parsed = taxRulesSchemaFor(businessCountry).safeParse(input.rules);
    if (!parsed.success) {
      return { ok: false, errors: parsed.error.issues.slice(0, 10).map((i) => (typeof i.path[0] === "number" ? `Rule ${i.path[0] + 1}: ${i.message}` : i.message)) };
    }
    rules = parsed.data;
  }
  return db.transaction(async (tx) => {
    const before = await getSettings(tx, input.tenantId);
    const beforeRules = effectiveTaxRules(before.taxRules, businessCountry);
    const afterRules = rules ?? defaultTaxRules(businessCountry);
    const changed = JSON.stringify(beforeRules) !== JSON.stringify(afterRules) || (before.taxRules === null) !== (rules === null);
    const now = new Date();
    await tx
      .insert(tenantSettings)
      .values({ tenantId: input.tenantId, ...DEFAULT_SETTINGS, taxRules: rules, updatedAt: now })
      .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { taxRules: rules, updatedAt: now } });
    if (changed) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "info",
        category: "settings",
        message: `VAT rules ${rules === null ? `reset to the defaults for ${businessCountry}` : "changed"}: ${afterRules.map((r) => describeTaxRule(r, businessCountry)).join("; ")}. Orders synced from now on use them; documents already in Sage are unchanged.`,
        details: { before: beforeRules, after: afterRules, businessCountry },
      });
    }
    return { ok: true as const, changed, view: { businessCountry, rules: afterRules, custom: rules !== null, defaults: defaultTaxRules(businessCountry) } };
  });
}

/** MPNs the rule editor suggests (the tenant's marketplace products, first 500 by MPN). */
export async function listProductMpns(db: Database, tenantId: string): Promise<string[]> {
  const rows = await db.select({ mpn: marketplaceProducts.mpn }).from(marketplaceProducts).where(eq(marketplaceProducts.tenantId, tenantId)).orderBy(marketplaceProducts.mpn).limit(500);
  return rows.map((r) => r.mpn);
}
