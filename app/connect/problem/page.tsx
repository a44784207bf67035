import type { Metadata } from "next";
import Link from "next/link";
import { Alert, Card, PageTitle } from "@/components/ui/card";
import { linkButtonClass } from "@/components/ui/button";

const MESSAGES: Record<string, { title: string; text: string }> = {
  denied: { title: "Sage access was not granted", text: "You chose Deny on Sage's consent page, so Sage Connector has no access to your Sage business. Nothing was stored." },
  denied_kept: { title: "Sage access was not granted again", text: "You chose Deny on Sage's consent page. Your existing Sage connection is unchanged and keeps syncing; nothing new was stored." },
  business_mismatch: {
    title: "This Sage user cannot see your business",
    text: "The Sage user you signed in with has no access to the business Sage Connector is connected to, so the connection was left unchanged. Sign in to Sage as a user of that business and try again.",
  },
  tampered: { title: "The answer from Sage could not be trusted", text: "The sign-in state was not issued by Sage Connector or was changed on the way. Nothing was stored." },
  expired: { title: "The sign-in expired", text: "More than 10 minutes passed between starting and finishing the connection. Nothing was stored." },
  replayed: { title: "This answer from Sage was already used", text: "Each sign-in can be completed once. Nothing new was stored." },
  wrong_tenant: { title: "This sign-in belongs to another account", text: "The connection was started for a different reseller account. Nothing was stored." },
  missing: { title: "The answer from Sage was incomplete", text: "Sage's answer carried no sign-in state. Nothing was stored." },
  sage_error: { title: "Sage refused the authorization", text: "Sage did not accept the authorization code (it is valid for 60 seconds and can be used once). Nothing was stored." },
};


export const metadata: Metadata = { title: "Connection problem" };

export default async function ConnectProblem({ searchParams }: { searchParams: Promise<{ reason?: string }> }) {
  const { reason } = await searchParams;
  const m = MESSAGES[reason ?? ""] ?? MESSAGES.tampered!;
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle>{m.title}</PageTitle>
      <Card>
        <div className="space-y-4">
          <Alert tone={reason === "denied" || reason === "denied_kept" ? "warning" : "error"} role="alert">{m.text}</Alert>
          <div className="flex gap-3">
            <Link href="/connect" className={linkButtonClass}>Try again</Link>
            {reason === "denied_kept" && (
              <Link href="/dashboard" className="self-center text-sm text-brand underline">
                Back to the dashboard
              </Link>
            )}
          </div>
        </div>
      </Card>
    </div>
  );
}
