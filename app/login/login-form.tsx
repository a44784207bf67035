"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { loginAction, type LoginState } from "./actions";

export function LoginForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(loginAction, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      {state.error && <Alert tone="error">{state.error}</Alert>}
      <input type="hidden" name="callbackUrl" value={callbackUrl ?? ""} />
      <div>
        <label htmlFor="email" className="block text-sm font-medium">E-mail</label>
        <input id="email" name="email" type="email" autoComplete="username" className="mt-1 w-full rounded-md border border-slate-300 px-3 py-2" aria-invalid={!!state.fieldErrors?.email} />
        {state.fieldErrors?.email && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.email}</p>}
      </div>
      <div>
        <label htmlFor="password" className="block text-sm font-medium">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" className="mt-1 w-full rounded-md border border-slate-300 px-3 py-2" aria-invalid={!!state.fieldErrors?.password} />
        {state.fieldErrors?.password && <p className="mt-1 text-sm text-red-700">{state.fieldErrors.password}</p>}
      </div>
      <Button type="submit" disabled={pending}>{pending ? "Signing in…" : "Sign in"}</Button>
    </form>
  );
}
