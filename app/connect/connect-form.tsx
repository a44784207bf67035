"use client";

import { useActionState, useState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { startAuthorizationAction, type ConnectState } from "./actions";

type Product = { id: string; label: string; available: boolean; note?: string; countries: { code: string; label: string }[] };

export function ConnectForm({ products }: { products: Product[] }) {
  const [state, action, pending] = useActionState<ConnectState, FormData>(startAuthorizationAction, {});
  const [productId, setProductId] = useState(products.find((p) => p.available)?.id ?? "");
  const countries = products.find((p) => p.id === productId)?.countries ?? [];
  return (
    <form action={action} className="space-y-6" noValidate>
      {state.error && <Alert tone="error">{state.error}</Alert>}
      <fieldset>
        <legend className="text-sm font-medium">Sage product</legend>
        <div className="mt-2 space-y-2">
          {products.map((p) => (
            <label key={p.id} className={`flex items-center gap-3 rounded-md border px-4 py-3 ${p.available ? "border-slate-300" : "border-dashed border-slate-200 text-slate-400"}`}>
              <input type="radio" name="product" value={p.id} disabled={!p.available} checked={productId === p.id} onChange={() => setProductId(p.id)} />
              <span>{p.label}</span>
              {p.note && <span className="ml-auto text-xs">{p.note}</span>}
            </label>
          ))}
        </div>
        {state.fieldErrors?.product && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.product}</p>}
      </fieldset>
      <div>
        <label htmlFor="country" className="block text-sm font-medium">Country of your Sage business</label>
        <select id="country" name="country" defaultValue="" className="mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2">
          <option value="" disabled>Choose a country…</option>
          {countries.map((c) => (
            <option key={c.code} value={c.code}>{c.label}</option>
          ))}
        </select>
        {state.fieldErrors?.country && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.country}</p>}
      </div>
      <Button type="submit" disabled={pending}>{pending ? "Opening Sage…" : "Connect to Sage"}</Button>
    </form>
  );
}
