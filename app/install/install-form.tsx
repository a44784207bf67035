"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { installAction, type InstallState } from "./actions";

export function InstallForm({ marketplace, account }: { marketplace: string; account: string }) {
  const [state, action, pending] = useActionState<InstallState, FormData>(installAction, {});
  return (
    <form action={action} className="space-y-4">
      {state.error && <Alert tone="error">{state.error}</Alert>}
      <input type="hidden" name="marketplace" value={marketplace} />
      <input type="hidden" name="account" value={account} />
      <Button type="submit" disabled={pending}>{pending ? "Installing…" : "Continue"}</Button>
    </form>
  );
}
