"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { selectBusinessAction, type BusinessState } from "../actions";

export function BusinessForm({ connectionId, businesses, current, changeWarning }: { connectionId: string; businesses: { id: string; name: string; country?: string | null }[]; current: string | null; changeWarning: string }) {
  const [state, action, pending] = useActionState<BusinessState, FormData>(selectBusinessAction, {});
  return (
    <form action={action} className="space-y-4">
      {state.error && <Alert tone="error">{state.error}</Alert>}
      <input type="hidden" name="connectionId" value={connectionId} />
      <fieldset className="space-y-2">
        <legend className="sr-only">Sage business</legend>
        {businesses.map((b) => (
          <label key={b.id} className="flex items-center gap-3 rounded-md border border-slate-300 px-4 py-3">
            <input type="radio" name="businessId" value={b.id} defaultChecked={b.id === current} />
            <span>{b.name}</span>
            {b.country && <span className="ml-auto text-xs uppercase text-slate-500">{b.country}</span>}
          </label>
        ))}
      </fieldset>
      {current && (
        <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900" data-testid="change-business-warning">
          <p className="font-semibold">Changing the business</p>
          <p>{changeWarning}</p>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="confirmChange" />
            <span>I understand — change the Sage business</span>
          </label>
        </div>
      )}
      <Button type="submit" disabled={pending}>{current ? "Change business" : "Use this business"}</Button>
    </form>
  );
}
