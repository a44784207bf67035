import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireSupport } from "@/lib/auth/session";
import { applicationRegistration } from "@/lib/connections/file-exchange";
import { RegistrationForms } from "./registration-forms";

export const metadata: Metadata = { title: "Sage 50 Cloud set-up" };

/** The operator's one-time set-up of the deployment's Sage 50 Cloud application. */
export default async function FileExchangeSetupPage() {
  await requireSupport("/support/file-exchange");
  const registration = await applicationRegistration(await getDb(), "sage-50-cloud");
  return (
    <div className="mx-auto max-w-2xl space-y-6">
      <PageTitle subtitle="Once per deployment: register this deployment as a Sage 50 Cloud application, so resellers can connect with a passcode.">Sage 50 Cloud set-up</PageTitle>
      <Card title="Status">
        <p className="text-sm" data-testid="registration-status">
          {!registration ? "Not registered." : registration.status === "ready" ? `Registered: application ${registration.applicationId} (developer ${registration.developerId}).` : "Registration started, waiting for the ids from the registration e-mail."}
        </p>
        {registration?.approvalUrl && (
          <p className="mt-2 text-sm text-slate-600">
            Sage 50 Cloud calls <code>{registration.approvalUrl}</code> with each reseller&apos;s API key and <code>{registration.notificationUrl}</code> when a file is updated.
          </p>
        )}
      </Card>
      <Card>
        <RegistrationForms registrationUrl={registration?.registrationUrl ?? null} ready={registration?.status === "ready"} />
      </Card>
    </div>
  );
}
