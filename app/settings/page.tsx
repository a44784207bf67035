import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireTenantReader } from "@/lib/auth/session";
import { getConfig } from "@/lib/config";
import { getSettings, SETTING_LABELS, type SettingsInput } from "@/lib/settings/settings";
import { getTaxRules, listProductMpns } from "@/lib/settings/tax-rules-settings";
import { findActiveConnection } from "@/lib/connections/authorize";
import { getSageTarget } from "@/lib/sage/targets";
import { CapabilityTable } from "@/components/connections/capability-table";
import { TaxRulesEditor } from "./tax-rules-editor";
import { RedirectValidation } from "./redirect-validation";
import { SettingsForm } from "./settings-form";

const HELP: Record<keyof SettingsInput, string> = {
  priceSource: "Where invoice line prices and descriptions come from.",
  trimDescription: "Yes puts only the product name in the invoice line description.",
  allowManyProductsToOneItem: "Whether several marketplace products may be mapped to the same Sage item.",
  autoSync: "How often new marketplace orders are checked and synced. Customers are auto-synced only when their own auto-sync is on.",
  downgrades: "A downgrade can be refunded with a Sage credit note, or only change the quantity.",
  notifications: "Which tasks show pop-up messages and Action Log entries.",
  invoiceMode: "Each order gets a new invoice, or is added to the customer's latest open invoice (same currency and billing cycle).",
};


export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage({ searchParams }: { searchParams: Promise<{ setup?: string }> }) {
  const { setup } = await searchParams;
  const access = await requireTenantReader("/settings");
  const settings = await getSettings(await getDb(), access.tenantId);
  const fields = (Object.keys(SETTING_LABELS) as (keyof SettingsInput)[]).map((name) => ({
    name,
    label: SETTING_LABELS[name].label,
    help: HELP[name],
    options: Object.entries(SETTING_LABELS[name].options).map(([value, label]) => ({ value, label })),
  }));
  const values = Object.fromEntries(fields.map((f) => [f.name, String(settings[f.name as keyof SettingsInput])]));
  const isSetup = setup === "1" || !settings.confirmed;
  const db = await getDb();
  const taxRules = await getTaxRules(db, access.tenantId);
  const mpns = await listProductMpns(db, access.tenantId);
  const connection = await findActiveConnection(db, access.tenantId);
  const target = connection ? getSageTarget(connection.target) : null;
  return (
    <div role="dialog" aria-labelledby="settings-title" className="mx-auto max-w-3xl space-y-6">
      <PageTitle subtitle={isSetup ? "Choose how Sage Integration works for you. You can change this later from the gear icon on the dashboard." : undefined}>
        <span id="settings-title">Settings</span>
      </PageTitle>
      <Card>
        <SettingsForm fields={fields} values={values} setup={isSetup} />
      </Card>
      <Card title="VAT by customer">
        <TaxRulesEditor initial={taxRules} mpns={mpns} />
      </Card>
      <Card title="Currencies and exchange rates">
        <p className="text-sm text-slate-700" data-testid="exchange-rate-source">
          An order in a currency other than your Sage business&apos;s base currency is invoiced in the order&apos;s currency at <strong>Sage&apos;s stored exchange rate</strong> for that
          currency (Settings › Currencies in Sage), read when the order is synced; the marketplace sends no rate. Sage prices used for such an order are converted at the same
          rate. When multi-currency is off in Sage, or Sage has no rate for the currency, the task needs action and nothing is written — never a rate of 1.
        </p>
      </Card>
      {target && (
        <Card title={`What syncs to ${target.label}`}>
          <CapabilityTable label={target.label} capabilities={target.capabilities} exchange={target.exchange} />
          <p className="mt-3 text-sm text-slate-600">An order that needs something this product cannot do is marked “Action required” with the reason; nothing is written for it.</p>
        </Card>
      )}
      <Card title="OAuth 2.0 redirect URL">
        <RedirectValidation redirectUrl={getConfig().oauthRedirectUrl} />
      </Card>
    </div>
  );
}
