"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { completeRegistrationAction, startRegistrationAction, type RegistrationState } from "./actions";

const input = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2";

export function RegistrationForms({ registrationUrl, ready }: { registrationUrl: string | null; ready: boolean }) {
  const [started, start, starting] = useActionState<RegistrationState, FormData>(startRegistrationAction, {});
  const [completed, complete, completing] = useActionState<RegistrationState, FormData>(completeRegistrationAction, {});
  return (
    <div className="space-y-8">
      <form action={start} className="space-y-3" noValidate>
        <h2 className="font-medium">1. Register as a developer</h2>
        {started.error && <Alert tone="error">{started.error}</Alert>}
        {started.done && <Alert tone="success">{started.done}</Alert>}
        <div>
          <label htmlFor="dev-name" className="block text-sm font-medium">Developer name</label>
          <input id="dev-name" name="name" className={input} defaultValue="Sage Connector" />
        </div>
        <div>
          <label htmlFor="dev-email" className="block text-sm font-medium">E-mail for the registration ids</label>
          <input id="dev-email" name="email" type="email" className={input} />
        </div>
        <Button type="submit" disabled={starting}>{starting ? "Registering…" : "Start registration"}</Button>
        {registrationUrl && (
          <p className="text-sm">
            Open the <a href={registrationUrl} target="_blank" rel="noreferrer" className="font-medium underline" data-testid="registration-link">registration page</a>, complete it, then enter what the e-mail says below.
          </p>
        )}
      </form>
      <form action={complete} className="space-y-3" noValidate>
        <h2 className="font-medium">2. Enter the ids from the registration e-mail</h2>
        {completed.error && <Alert tone="error">{completed.error}</Alert>}
        {(completed.done || ready) && <Alert tone="success">{completed.done ?? "Sage 50 Cloud is set up: resellers can connect with a passcode."}</Alert>}
        <div>
          <label htmlFor="developer-id" className="block text-sm font-medium">Developer id</label>
          <input id="developer-id" name="developerId" className={input} autoComplete="off" />
        </div>
        <div>
          <label htmlFor="application-id" className="block text-sm font-medium">Application id</label>
          <input id="application-id" name="applicationId" className={input} autoComplete="off" />
        </div>
        <div>
          <label htmlFor="application-secret" className="block text-sm font-medium">Application secret</label>
          <input id="application-secret" name="secret" type="password" className={input} autoComplete="off" />
        </div>
        <Button type="submit" disabled={completing}>{completing ? "Saving…" : "Save the registration"}</Button>
      </form>
    </div>
  );
}
