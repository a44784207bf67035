import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireResellerAdmin } from "@/lib/auth/session";
import { getConfig } from "@/lib/config";
import { getSettings, SETTING_LABELS, type SettingsInput } from "@/lib/settings/settings";
import { findActiveConnection } from "@/lib/connections/authorize";
import { defaultTaxRules, TREATMENT_LABELS } from "@/lib/sync/tax-rules";
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
  const user = await requireResellerAdmin("/settings");
  const settings = await getSettings(await getDb(), user.tenantId);
  const fields = (Object.keys(SETTING_LABELS) as (keyof SettingsInput)[]).map((name) => ({
    name,
    label: SETTING_LABELS[name].label,
    help: HELP[name],
    options: Object.entries(SETTING_LABELS[name].options).map(([value, label]) => ({ value, label })),
  }));
  const values = Object.fromEntries(fields.map((f) => [f.name, String(settings[f.name as keyof SettingsInput])]));
  const isSetup = setup === "1" || !settings.confirmed;
  const businessCountry = ((await findActiveConnection(await getDb(), user.tenantId))?.country ?? "gb").toUpperCase();
  const region = { domestic: `In ${businessCountry}`, eu: "In another EU country", world: "Elsewhere" } as const;
  return (
    <div role="dialog" aria-labelledby="settings-title" className="mx-auto max-w-3xl space-y-6">
      <PageTitle subtitle={isSetup ? "Choose how Sage Integration works for you. You can change this later from the gear icon on the dashboard." : undefined}>
        <span id="settings-title">Settings</span>
      </PageTitle>
      <Card>
        <SettingsForm fields={fields} values={values} setup={isSetup} />
      </Card>
      <Card title="VAT by customer">
        <p className="mb-3 text-sm text-slate-700">
          Each invoice line takes its Sage tax rate by the customer&apos;s billing country and whether it has a valid-looking VAT number of that country
          (rules for a business in {businessCountry}). The customer&apos;s VAT number goes onto its Sage contact.
        </p>
        <table className="w-full text-left text-sm" data-testid="tax-rules">
          <thead className="text-xs uppercase text-slate-500">
            <tr><th className="py-1">Customer</th><th className="py-1">VAT number</th><th className="py-1">Sage tax rate</th></tr>
          </thead>
          <tbody>
            {defaultTaxRules(businessCountry).map((r) => (
              <tr key={`${r.region}-${String(r.vatRegistered)}`} className="border-t border-slate-100">
                <td className="py-1">{region[r.region]}</td>
                <td className="py-1">{r.vatRegistered === "any" ? "Any" : r.vatRegistered ? "Yes" : "No"}</td>
                <td className="py-1">{TREATMENT_LABELS[r.treatment]}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="mt-2 text-xs text-slate-500">These are the defaults for your business&apos;s country; editing them here is not available yet.</p>
      </Card>
      <Card title="Currencies and exchange rates">
        <p className="text-sm text-slate-700" data-testid="exchange-rate-source">
          An order in a currency other than your Sage business&apos;s base currency is invoiced in the order&apos;s currency at <strong>Sage&apos;s stored exchange rate</strong> for that
          currency (Settings › Currencies in Sage), read when the order is synced; the marketplace sends no rate. Sage prices used for such an order are converted at the same
          rate. When multi-currency is off in Sage, or Sage has no rate for the currency, the task needs action and nothing is written — never a rate of 1.
        </p>
      </Card>
      <Card title="OAuth 2.0 redirect URL">
        <RedirectValidation redirectUrl={getConfig().oauthRedirectUrl} />
      </Card>
    </div>
  );
}
