"use client";

import { useMutation } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";

type Validation = { redirectUrl: string; ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };

export function RedirectValidation({ redirectUrl }: { redirectUrl: string }) {
  const validate = useMutation({
    mutationFn: async (): Promise<Validation> => {
      const res = await fetch("/api/oauth/validate-redirect", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.error ?? `HTTP ${res.status}`);
      return res.json();
    },
  });
  return (
    <div className="space-y-3">
      <p className="text-sm">Register this exact URL as a callback URL of your Sage app (it is case-sensitive):</p>
      <code data-testid="redirect-url" className="block rounded bg-slate-100 px-3 py-2 text-sm">{redirectUrl}</code>
      <Button type="button" variant="secondary" onClick={() => validate.mutate()} disabled={validate.isPending}>
        {validate.isPending ? "Validating…" : "Validate redirect URL"}
      </Button>
      {validate.isError && <Alert tone="error">Validation could not run: {validate.error.message}</Alert>}
      {validate.data && (
        <div className="space-y-2">
          <Alert tone={validate.data.ok ? "success" : "error"}>
            {validate.data.ok ? "Redirect URL works: a signed test state went through /oauth2redirect and came back unchanged." : "Redirect URL check failed — see below."}
          </Alert>
          <ul className="text-sm">
            {validate.data.checks.map((c) => (
              <li key={c.name}>{c.ok ? "✓" : "✗"} {c.name} — <span className="text-slate-500">{c.detail}</span></li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
