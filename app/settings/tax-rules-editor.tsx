"use client";

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import type { TaxRulesView } from "@/lib/settings/tax-rules-settings";
import { TAX_TREATMENTS, TREATMENT_LABELS, type TaxRegion, type TaxRule } from "@/lib/sync/tax-rules";

type DraftRule = { region: TaxRegion; country: string; vatRegistered: "any" | "yes" | "no"; mpn: string; treatment: TaxRule["treatment"] };

const toDraft = (r: TaxRule): DraftRule => ({
  region: r.region,
  country: r.country ?? "",
  vatRegistered: r.vatRegistered === "any" ? "any" : r.vatRegistered ? "yes" : "no",
  mpn: r.mpn ?? "",
  treatment: r.treatment,
});

const fromDraft = (d: DraftRule) => ({
  region: d.region,
  country: d.country.trim() || null,
  vatRegistered: d.vatRegistered === "any" ? ("any" as const) : d.vatRegistered === "yes",
  mpn: d.mpn.trim() || null,
  treatment: d.treatment,
});

const inputClass = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-brand";

/**
 * Settings › VAT by customer: the rule table as it applies (defaults or the reseller's own), and an
 * editor. A rule can name one customer country and one product; the most specific rule wins.
 */
export function TaxRulesEditor({ initial, mpns }: { initial: TaxRulesView; mpns: string[] }) {
  const [view, setView] = useState(initial);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<DraftRule[]>(() => initial.rules.map(toDraft));
  const region = { domestic: `In ${view.businessCountry}`, eu: "In another EU country", world: "Outside the EU" } as const;
  const save = useMutation({
    mutationFn: async (rules: ReturnType<typeof fromDraft>[] | null): Promise<TaxRulesView & { changed: boolean }> => {
      const res = await fetch("/api/settings/tax-rules", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rules }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}. Nothing was saved.`);
      return body;
    },
    onSuccess: (saved) => {
      setView(saved);
      setDraft(saved.rules.map(toDraft));
      setEditing(false);
    },
  });
  const update = (i: number, patch: Partial<DraftRule>) => setDraft((rows) => rows.map((r, n) => (n === i ? { ...r, ...patch } : r)));

  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-700">
        Each invoice line takes its Sage tax rate by the customer&apos;s billing country, whether it has a valid-looking VAT number of that country, and the
        product (rules for a business in {view.businessCountry}). A rule for one country or one product wins over a general one. The customer&apos;s VAT number goes
        onto its Sage contact.
      </p>
      {!editing && (
        <>
          <table className="w-full text-left text-sm" data-testid="tax-rules">
            <thead className="text-xs uppercase text-slate-500">
              <tr><th className="py-1">Customer</th><th className="py-1">VAT number</th><th className="py-1">Product</th><th className="py-1">Sage tax rate</th></tr>
            </thead>
            <tbody>
              {view.rules.map((r, i) => (
                <tr key={i} className="border-t border-slate-100">
                  <td className="py-1">{r.country ? `In ${r.country}` : region[r.region]}</td>
                  <td className="py-1">{r.vatRegistered === "any" ? "Any" : r.vatRegistered ? "Yes" : "No"}</td>
                  <td className="py-1">{r.mpn ?? "All products"}</td>
                  <td className="py-1">{TREATMENT_LABELS[r.treatment]}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="flex items-center gap-3">
            <span className="text-xs text-slate-500" data-testid="tax-rules-source">
              {view.custom ? "Your own rules." : `The defaults for a business in ${view.businessCountry}.`}
            </span>
            <Button type="button" variant="secondary" onClick={() => { save.reset(); setEditing(true); }}>Edit rules</Button>
            {view.custom && (
              <Button type="button" variant="secondary" disabled={save.isPending} onClick={() => save.mutate(null)}>Restore defaults</Button>
            )}
          </div>
          {save.isSuccess && <p role="status" className="text-sm text-slate-600">{save.data.changed ? "VAT rules saved. Orders synced from now on use them." : "No change."}</p>}
        </>
      )}
      {editing && (
        <form
          className="space-y-3"
          aria-label="Edit VAT rules"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate(draft.map(fromDraft));
          }}
        >
          <datalist id="tax-rule-mpns">{mpns.map((m) => <option key={m} value={m} />)}</datalist>
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase text-slate-500">
              <tr><th className="py-1">Customer</th><th className="py-1">Country (optional)</th><th className="py-1">VAT number</th><th className="py-1">Product MPN (optional)</th><th className="py-1">Sage tax rate</th><th /></tr>
            </thead>
            <tbody>
              {draft.map((r, i) => (
                <tr key={i} className="border-t border-slate-100" data-testid="tax-rule-row">
                  <td className="py-1 pr-2">
                    <select aria-label={`Rule ${i + 1} customer`} className={inputClass} value={r.region} onChange={(e) => update(i, { region: e.target.value as TaxRegion })}>
                      <option value="domestic">{region.domestic}</option>
                      <option value="eu">{region.eu}</option>
                      <option value="world">{region.world}</option>
                    </select>
                  </td>
                  <td className="py-1 pr-2">
                    <input aria-label={`Rule ${i + 1} country`} className={`${inputClass} w-16 uppercase`} maxLength={2} placeholder="any" value={r.country} onChange={(e) => update(i, { country: e.target.value })} />
                  </td>
                  <td className="py-1 pr-2">
                    <select aria-label={`Rule ${i + 1} VAT number`} className={inputClass} value={r.vatRegistered} onChange={(e) => update(i, { vatRegistered: e.target.value as DraftRule["vatRegistered"] })}>
                      <option value="any">Any</option>
                      <option value="yes">Yes</option>
                      <option value="no">No</option>
                    </select>
                  </td>
                  <td className="py-1 pr-2">
                    <input aria-label={`Rule ${i + 1} product`} list="tax-rule-mpns" className={`${inputClass} w-40`} placeholder="all products" value={r.mpn} onChange={(e) => update(i, { mpn: e.target.value })} />
                  </td>
                  <td className="py-1 pr-2">
                    <select aria-label={`Rule ${i + 1} Sage tax rate`} className={inputClass} value={r.treatment} onChange={(e) => update(i, { treatment: e.target.value as DraftRule["treatment"] })}>
                      {TAX_TREATMENTS.map((t) => <option key={t} value={t}>{TREATMENT_LABELS[t]}</option>)}
                    </select>
                  </td>
                  <td className="py-1">
                    <button type="button" className="text-sm text-red-700 hover:underline" aria-label={`Remove rule ${i + 1}`} onClick={() => setDraft((rows) => rows.filter((_, n) => n !== i))}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {save.isError && <Alert tone="error" role="alert">{save.error.message}</Alert>}
          <div className="flex gap-3">
            <Button type="button" variant="secondary" onClick={() => setDraft((rows) => [...rows, { region: "domestic", country: "", vatRegistered: "any", mpn: "", treatment: "item_rate" }])}>Add rule</Button>
            <Button type="submit" disabled={save.isPending}>{save.isPending ? "Saving…" : "Save rules"}</Button>
            <Button type="button" variant="secondary" disabled={save.isPending} onClick={() => { setDraft(view.rules.map(toDraft)); setEditing(false); save.reset(); }}>Cancel</Button>
          </div>
        </form>
      )}
    </div>
  );
}
