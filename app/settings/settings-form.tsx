"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { saveSettingsAction, type SettingsState } from "./actions";

type Field = { name: string; label: string; help: string; options: { value: string; label: string }[] };

export function SettingsForm({ fields, values, setup }: { fields: Field[]; values: Record<string, string>; setup: boolean }) {
  const [state, action, pending] = useActionState<SettingsState, FormData>(saveSettingsAction, {});
  return (
    <form action={action} className="space-y-6" noValidate>
      {state.error && <Alert tone="error">{state.error}</Alert>}
      {state.saved && <Alert tone="success">{state.changes ? `Settings saved (${state.changes} changed).` : "Settings saved (no changes)."}</Alert>}
      {setup && <input type="hidden" name="setup" value="1" />}
      {fields.map((f) => {
        const error = state.fieldErrors?.[f.name as keyof NonNullable<SettingsState["fieldErrors"]>];
        return (
          <fieldset key={f.name} aria-describedby={`${f.name}-help`} aria-invalid={!!error}>
            <legend className="text-sm font-medium">{f.label}</legend>
            <p id={`${f.name}-help`} className="text-sm text-slate-500">{f.help}</p>
            <div className="mt-2 flex flex-wrap gap-3">
              {f.options.map((o) => (
                <label key={o.value} className="flex items-center gap-2 rounded-md border border-slate-300 px-3 py-2 text-sm">
                  <input type="radio" name={f.name} value={o.value} defaultChecked={values[f.name] === o.value} />
                  {o.label}
                </label>
              ))}
            </div>
            {error && <p className="mt-1 text-sm text-red-700">{error}</p>}
          </fieldset>
        );
      })}
      <Button type="submit" disabled={pending}>{pending ? "Saving…" : setup ? "Save and open dashboard" : "Save settings"}</Button>
    </form>
  );
}
