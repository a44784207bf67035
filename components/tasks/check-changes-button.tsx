"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { CheckChangesState } from "@/app/tasks/actions";
import { Button } from "@/components/ui/button";

/** "Check Changes": pending while the marketplace is read, then the result ("2 new tasks, 1 already known"). */
export function CheckChangesButton({ action }: { action: () => Promise<CheckChangesState> }) {
  const [pending, startTransition] = useTransition();
  const [state, setState] = useState<CheckChangesState | null>(null);
  const router = useRouter();
  const queryClient = useQueryClient();
  const run = () =>
    startTransition(async () => {
      setState(null);
      try {
        const result = await action();
        setState(result);
      } catch (e) {
        setState({ error: `Check Changes failed: ${(e as Error).message}` });
      }
      await queryClient.invalidateQueries({ queryKey: ["tasks"] });
      router.refresh();
    });
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <Button type="button" onClick={run} disabled={pending} aria-busy={pending}>
          {pending ? "Checking…" : "Check Changes"}
        </Button>
        {pending && (
          <span role="status" className="text-sm text-slate-600">
            Reading new orders from the marketplace…
          </span>
        )}
        {!pending && state?.message && (
          <span role="status" data-testid="check-changes-result" className={`text-sm ${state.ok ? "text-emerald-800" : "text-red-700"}`}>
            {state.message}{" "}
            {state.ok && (state.newTasks ?? 0) > 0 && (
              <Link href="/tasks?state=pending" className="text-brand underline">
                Open tasks
              </Link>
            )}
          </span>
        )}
        {!pending && state?.error && (
          <span role="alert" className="text-sm text-red-700">
            {state.error}
          </span>
        )}
      </div>
      {!pending && state?.webhooksMessage && <p className="text-sm text-amber-800">{state.webhooksMessage}</p>}
    </div>
  );
}
