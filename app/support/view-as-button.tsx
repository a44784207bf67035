"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { startViewAsAction, type ViewAsState } from "./actions";

export function ViewAsButton({ tenantId, tenantName }: { tenantId: string; tenantName: string }) {
  const [state, action, pending] = useActionState<ViewAsState, FormData>(startViewAsAction, {});
  return (
    <form action={action} className="flex flex-col items-end gap-1">
      <input type="hidden" name="tenantId" value={tenantId} />
      <Button type="submit" disabled={pending} title={`Open ${tenantName}'s own pages read only`}>
        {pending ? "Opening…" : "View as (read only)"}
      </Button>
      {state.error && <p role="alert" className="text-sm text-red-700">{state.error}</p>}
    </form>
  );
}
